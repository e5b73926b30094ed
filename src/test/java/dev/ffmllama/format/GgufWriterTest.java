package dev.ffmllama.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GgufWriter: stories260K round-trips tensor for tensor and key for key; bad input is refused. */
class GgufWriterTest {
    @TempDir
    Path dir;

    @Test
    void stories260KRoundTripsThroughTheWriter() throws Exception {
        Path original = SharedData.model("stories260K.gguf");
        Path copy = dir.resolve("copy.gguf");
        try (GgufFile in = GgufFile.open(original)) {
            new GgufWriter().copyMetadata(in.metadata(), k -> true).copyTensors(in).write(copy);
        }
        try (GgufFile a = GgufFile.open(original); GgufFile b = GgufFile.open(copy)) {
            assertEquals(List.copyOf(a.metadata().keys()), List.copyOf(b.metadata().keys()));
            for (String key : a.metadata().keys()) {
                assertEquals(a.metadata().type(key), b.metadata().type(key), key);
                assertValueEquals(a.metadata().raw(key), b.metadata().raw(key), key);
            }
            assertEquals(a.tensorInfos().size(), b.tensorInfos().size());
            for (int i = 0; i < a.tensorInfos().size(); i++) {
                GgufTensorInfo ta = a.tensorInfos().get(i), tb = b.tensorInfos().get(i);
                assertEquals(ta.name(), tb.name());
                assertEquals(ta.type(), tb.type(), ta.name());
                assertArrayEquals(ta.ne(), tb.ne(), ta.name());
                assertEquals(-1, a.tensorData(ta).mismatch(b.tensorData(tb)), ta.name() + " bytes differ");
            }
        }
        // llama.cpp's writer lays the file out the same way (order, alignment 32, padding): byte-identical.
        assertEquals(-1, Files.mismatch(original, copy), "the rewritten file differs from llama.cpp's bytes");
    }

    @Test
    void everyValueTypeAndNestedArraysRoundTrip() throws Exception {
        GgufArray inner = new GgufArray(GgufValueType.INT16, new long[] {-3, 7}, 2);
        GgufWriter w = new GgufWriter()
                .put("u8", GgufValueType.UINT8, 200L).put("i8", GgufValueType.INT8, -5L)
                .put("u16", GgufValueType.UINT16, 60000L).put("i16", GgufValueType.INT16, -300L)
                .putUint32("u32", 4_000_000_000L).putInt32("i32", -7)
                .put("u64", GgufValueType.UINT64, 1L << 40).put("i64", GgufValueType.INT64, -(1L << 40))
                .putFloat32("f32", 1.5f).put("f64", GgufValueType.FLOAT64, Math.PI).putBool("yes", true)
                .putString("s", "héllo ▁")
                .put("nested", GgufValueType.ARRAY, new GgufArray(GgufValueType.ARRAY, new GgufArray[] {inner}, 1))
                .put("doubles", GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT64, new double[] {0.25, -2}, 2))
                .alignment(64)
                .tensor("t", new float[] {1, 2, 3, 4, 5, 6}, 2, 3)
                .tensor("v", new float[] {9}, 1);
        Path file = dir.resolve("types.gguf");
        w.write(file);
        try (GgufFile g = GgufFile.open(file)) {
            GgufMetadata md = g.metadata();
            assertEquals(200, md.getLong("u8"));
            assertEquals(-5, md.getLong("i8"));
            assertEquals(60000, md.getLong("u16"));
            assertEquals(-300, md.getLong("i16"));
            assertEquals(4_000_000_000L, md.getLong("u32"));
            assertEquals(-7, md.getInt("i32"));
            assertEquals(1L << 40, md.getLong("u64"));
            assertEquals(-(1L << 40), md.getLong("i64"));
            assertEquals(1.5f, md.getFloat("f32"));
            assertEquals(Math.PI, (Double) md.raw("f64"));
            assertTrue(md.getBoolean("yes"));
            assertEquals("héllo ▁", md.getString("s"));
            assertArrayEquals(new long[] {-3, 7}, md.getArray("nested").arrays()[0].longs());
            assertArrayEquals(new float[] {0.25f, -2f}, md.getArray("doubles").floats());
            assertEquals(64, g.alignment());
            GgufTensorInfo t = g.tensorInfo("t").orElseThrow();
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, g.tensorData(t).toArray(ValueLayout.JAVA_FLOAT));
            GgufTensorInfo v = g.tensorInfo("v").orElseThrow();
            assertEquals(0, v.offset() % 64);
            assertEquals(9f, g.tensorData(v).get(ValueLayout.JAVA_FLOAT, 0));
        }
    }

    @Test
    void badInputIsRefusedWithTheNameOfTheProblem() {
        GgufWriter w = new GgufWriter().putUint32("k", 1);
        assertMessage(IllegalArgumentException.class, () -> w.putUint32("k", 2), "'k' is already set");
        assertMessage(IllegalArgumentException.class, () -> w.put("x", GgufValueType.FLOAT32, 1.0), "needs a Float");
        assertMessage(IllegalArgumentException.class, () -> w.putUint32("neg", -1), "not a uint32");
        assertMessage(IllegalArgumentException.class, () -> w.alignment(24), "power of two");
        w.tensor("a", new float[] {1, 2}, 2);
        assertMessage(IllegalArgumentException.class, () -> w.tensor("a", new float[] {1}, 1), "already added");
        assertMessage(IllegalArgumentException.class,
                () -> w.tensor("b", GgmlType.F32, new long[] {3}, MemorySegment.ofArray(new byte[8])), "needs 12 bytes");
        assertMessage(IllegalArgumentException.class,
                () -> w.tensor("c", GgmlType.Q8_0, new long[] {2, 20}, MemorySegment.ofArray(new byte[34])),
                "block size");
    }

    private static void assertMessage(Class<? extends Throwable> type, Runnable r, String fragment) {
        Throwable t = assertThrows(type, r::run);
        assertTrue(t.getMessage().contains(fragment), "message '" + t.getMessage() + "' lacks '" + fragment + "'");
    }

    private static void assertValueEquals(Object a, Object b, String key) {
        if (a instanceof byte[] x) {
            assertArrayEquals(x, (byte[]) b, key);
        } else if (a instanceof GgufArray x) {
            GgufArray y = (GgufArray) b;
            assertEquals(x.elementType(), y.elementType(), key);
            assertEquals(x.length(), y.length(), key);
            switch (x.elementType()) {
                case STRING -> {
                    for (int i = 0; i < x.length(); i++) assertArrayEquals(x.rawStrings()[i], y.rawStrings()[i], key + "[" + i + "]");
                }
                case FLOAT32 -> assertArrayEquals(x.floats(), y.floats(), key);
                default -> assertArrayEquals(x.longs(), y.longs(), key);
            }
        } else {
            assertEquals(a, b, key);
        }
    }
}
