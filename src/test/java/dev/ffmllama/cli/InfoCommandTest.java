package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.blas.Blas;
import dev.ffmllama.nativelib.NativeLibrary;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InfoCommandTest {

    @Test
    void reportsRuntimeKernelsAndBlas() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute("info");
        assertEquals(0, exit, err.toString());
        String text = out.toString();
        NativeLibrary lib = NativeLibrary.load();
        assertTrue(text.contains(Runtime.version().toString()), text);
        assertTrue(text.contains("Kernel variant:   " + lib.kernelVariant()), text);
        assertTrue(text.contains(lib.cpuFeatures()), text);
        assertTrue(text.contains(lib.path().toString()), text);
        assertTrue(text.contains(Blas.get().libraryPath().toString()), text);
        assertTrue(text.contains("BLAS threads:     " + Blas.get().threads().getAsInt()), text);
        assertTrue(text.contains("OpenBLAS"), text);
    }
}
