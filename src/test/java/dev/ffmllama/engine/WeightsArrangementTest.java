package dev.ffmllama.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.layout.Layout;
import dev.ffmllama.tensor.WeightType;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code matrix=auto}, the default: native sessions read F32 matrices transposed (a view made once, on
 * first use), the Java backends read the rows, in place when the file has them 64-byte aligned and from
 * aligned copies otherwise; other storage types are never transposed or copied.
 */
class WeightsArrangementTest {

    @Test
    void nativeSessionsGetOneTransposedViewJavaBackendsTheRows() throws IOException {
        try (ModelFile file = ModelFiles.open(SharedData.model("stories260K.bin"))) {
            Weights rows = new Weights(file);
            assertEquals(Layout.MatrixOrder.AUTO, rows.layout().matrix());
            Weights view = rows.arrangedFor(Backend.NATIVE);
            assertNotSame(rows, view);
            assertSame(view, rows.arrangedFor(Backend.NATIVE), "one view, shared by every native session");

            for (int l = 0; l < rows.layers.length; l++) {
                Linear[] before = rows.layers[l].matrices(), after = view.layers[l].matrices();
                assertEquals(before.length, after.length);
                for (int i = 0; i < before.length; i++) {
                    assertTransposedCopy(before[i], after[i]);
                }
            }
            // stories260K's classifier is its embedding (shared): the classifier gets a transposed copy of its
            // own; the embedding is still looked up by rows
            assertEquals(rows.tokenEmbedding.data().address(), rows.classifier.data().address());
            assertSame(rows.tokenEmbedding, view.tokenEmbedding);
            assertTransposedCopy(rows.classifier, view.classifier);
            assertEquals(rows.bytesReadPerToken(), view.bytesReadPerToken());

            rows.close();
            assertThrows(IllegalStateException.class, () -> rows.arrangedFor(Backend.NATIVE));
            assertThrows(IllegalStateException.class, () -> rows.arrangedFor(Backend.VECTOR));
            rows.close(); // idempotent
        }
    }

    @Test
    void javaSessionsGetOneViewWithAlignedCopiesOfMisalignedRows() throws IOException {
        // a llama2.c checkpoint: a 28-byte header, so every matrix starts 28 + 4k bytes into the file
        try (ModelFile file = ModelFiles.open(SharedData.model("stories260K.bin")); Weights rows = new Weights(file)) {
            Weights view = rows.arrangedFor(Backend.VECTOR);
            assertNotSame(rows, view);
            assertSame(view, rows.arrangedFor(Backend.JAVA), "one view, shared by both Java backends");
            int copied = 0;
            for (int l = 0; l < rows.layers.length; l++) {
                Linear[] before = rows.layers[l].matrices(), after = view.layers[l].matrices();
                for (int i = 0; i < before.length; i++) {
                    if (assertAlignedRows(before[i], after[i])) copied++;
                }
            }
            assertTrue(copied > 0, "stories260K.bin has misaligned matrices");
            assertAlignedRows(rows.classifier, view.classifier);
            assertSame(rows.tokenEmbedding, view.tokenEmbedding, "the embedding is looked up in place");
        }
    }

    @Test
    void javaSessionsReadAlignedMatricesInPlace() throws IOException {
        // align=64 makes every tensor an aligned copy at load time: nothing left to arrange for Java
        try (ModelFile file = ModelFiles.open(SharedData.model("stories260K.bin"));
             Weights rows = new Weights(file, null, Layout.parse("align=64"))) {
            assertEquals(Layout.MatrixOrder.AUTO, rows.layout().matrix());
            assertSame(rows, rows.arrangedFor(Backend.VECTOR));
            assertSame(rows, rows.arrangedFor(Backend.JAVA));
            assertNotSame(rows, rows.arrangedFor(Backend.NATIVE));
        }
    }

    /** {@code after} is {@code before}'s rows, 64-byte aligned: the same matrix, or a copy; true if a copy. */
    private static boolean assertAlignedRows(Linear before, Linear after) {
        assertTrue(!after.transposed());
        assertEquals(0, after.data().address() % 64, "aligned");
        assertEquals(before.out(), after.out());
        assertEquals(before.in(), after.in());
        assertEquals(-1, before.data().mismatch(after.data()), "same bytes");
        if (before.data().address() % 64 == 0) {
            assertSame(before, after, "an aligned matrix is used in place");
            return false;
        }
        return true;
    }

    @Test
    void fixedMatrixOrdersAreTheSameForEveryBackend() throws IOException {
        try (ModelFile file = ModelFiles.open(SharedData.model("stories260K.bin"))) {
            for (String spec : new String[] {"matrix=rows", "matrix=transposed"}) {
                try (Weights w = new Weights(file, null, Layout.parse(spec))) {
                    for (Backend b : Backend.values()) assertSame(w, w.arrangedFor(b), spec + " " + b);
                }
            }
        }
    }

    @Test
    void quantizedMatricesStayRowsInTheNativeView() throws IOException {
        Path q8 = SharedData.golden("quant/tiny32-q8_0.gguf");
        try (ModelFile file = ModelFiles.open(q8); Weights rows = new Weights(file)) {
            Weights view = rows.arrangedFor(Backend.NATIVE);
            int quantized = 0;
            for (int l = 0; l < rows.layers.length; l++) {
                Linear[] before = rows.layers[l].matrices(), after = view.layers[l].matrices();
                for (int i = 0; i < before.length; i++) {
                    if (before[i].type() == WeightType.F32) {
                        assertTransposedCopy(before[i], after[i]);
                    } else {
                        assertSame(before[i], after[i]);
                        quantized++;
                    }
                }
            }
            assertTrue(quantized > 0, "tiny32-q8_0 has Q8_0 matrices");
        }
    }

    /** {@code t} holds {@code Wᵀ} of {@code rows}'s F32 matrix, in memory of its own. */
    private static void assertTransposedCopy(Linear rows, Linear t) {
        assertTrue(!rows.transposed() && t.transposed());
        assertEquals(rows.out(), t.out());
        assertEquals(rows.in(), t.in());
        assertTrue(rows.data().address() != t.data().address());
        for (long o = 0; o < rows.out(); o += 7) {
            for (long i = 0; i < rows.in(); i += 5) {
                assertEquals(rows.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, o * rows.in() + i),
                        t.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i * rows.out() + o));
            }
        }
    }
}
