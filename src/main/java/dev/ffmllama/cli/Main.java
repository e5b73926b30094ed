package dev.ffmllama.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ffm-llama} command line. User errors (bad files, bad arguments) print one line naming the
 * problem and exit 1 (2 for usage errors); nothing prints a stack trace unless {@code --debug}.
 */
@Command(name = "ffm-llama", mixinStandardHelpOptions = true, version = "ffm-llama 0.1.0",
        description = "LLM inference on the JVM over the Foreign Function & Memory API.",
        subcommands = {
                CommandLine.HelpCommand.class,
                GenerateCommand.class,
                LogitsCommand.class,
                PerplexityCommand.class,
                InfoCommand.class,
                TokenizeCommand.class,
                NormCommand.class,
                SynthCommand.class,
                InspectCommand.class,
                BenchCommand.class,
        })
public final class Main implements Runnable {

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code (used by tests, which must not call System.exit). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        return cl.execute(args);
    }
}
