package dev.ffmllama.cli;

import dev.ffmllama.format.ModelFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * Turns exceptions into one-line messages and exit codes: user errors (bad input, bad files,
 * bad arguments) exit 1 without a stack trace; set FFM_LLAMA_DEBUG=1 to see traces.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
        boolean debug = System.getenv("FFM_LLAMA_DEBUG") != null;
        String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        boolean userError = ex instanceof ModelFormatException || ex instanceof IllegalArgumentException
                || ex instanceof IOException || ex instanceof UncheckedIOException
                || ex instanceof IllegalStateException || ex instanceof UserException;
        cmd.getErr().println("error: " + msg);
        if (debug || !userError) ex.printStackTrace(cmd.getErr());
        return userError ? 1 : 3;
    }
}
