package dev.ffmllama.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.format.ModelFormatException;
import java.io.IOException;

/**
 * Fuzzes llama2.c checkpoint loading (the 7-int header, its consistency with the file size, the
 * tensor layout) through {@link ModelFiles#open}, as the CLI and {@code Model.load} call it. Only a
 * {@link ModelFormatException} may come out. Seeds: {@code Llama2cCheckpointFuzzTestInputs/checkpoint/}
 * (tiny self-consistent checkpoints and stories260K header variants).
 */
class Llama2cCheckpointFuzzTest {
    @FuzzTest
    void checkpoint(byte[] bytes) {
        try (ModelFile model = ModelFiles.open(FuzzInput.write(".bin", bytes))) {
            ModelProbe.exercise(model);
        } catch (ModelFormatException | IOException expected) {
            // documented outcome for a bad file
        }
    }
}
