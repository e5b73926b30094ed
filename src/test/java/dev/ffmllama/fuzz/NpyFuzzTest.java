package dev.ffmllama.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ffmllama.format.Npy;
import dev.ffmllama.format.NpyException;
import dev.ffmllama.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Fuzzes the {@code .npy} reader: header only, as floats and as token ids. Only an
 * {@link NpyException} may come out, and what is read must agree with the header.
 * Seeds: {@code NpyFuzzTestInputs/npy/}.
 */
class NpyFuzzTest {
    @FuzzTest
    void npy(byte[] bytes) {
        Path file = FuzzInput.write(".npy", bytes);
        Npy.Header header;
        try {
            header = Npy.readHeader(file);
        } catch (NpyException expected) {
            return;
        }
        try (Tensor t = Npy.readFloats(file)) {
            if (!Arrays.equals(t.shape(), header.shape())) {
                throw new AssertionError("read shape " + Arrays.toString(t.shape()) + " for header " + header);
            }
        } catch (NpyException expected) {
            // not float32, or data size mismatch
        }
        try {
            int[] ids = Npy.readIds(file);
            if (ids.length != header.elementCount()) {
                throw new AssertionError("read " + ids.length + " ids for header " + header);
            }
        } catch (NpyException expected) {
            // not an integer dtype, or data size mismatch
        }
    }
}
