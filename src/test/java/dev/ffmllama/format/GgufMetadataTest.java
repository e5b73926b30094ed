package dev.ffmllama.format;

import static dev.ffmllama.format.GgufTestWriter.le;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every GGUF metadata value type, read back through the typed getters. */
class GgufMetadataTest {

    @Test
    void everyValueTypeIncludingNestedArrays(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream nested = new ByteArrayOutputStream();
        nested.writeBytes(le(12).putInt(GgufTestWriter.ARRAY).putLong(2).array());
        nested.writeBytes(le(12 + 2).putInt(GgufTestWriter.UINT8).putLong(2).put((byte) 1).put((byte) 0xFF).array());
        nested.writeBytes(le(12).putInt(GgufTestWriter.STRING).putLong(1).array());
        nested.writeBytes(GgufTestWriter.str("x"));

        GgufTestWriter w = new GgufTestWriter()
                .raw("u8", 0, new byte[] {(byte) 200})
                .raw("i8", 1, new byte[] {(byte) -3})
                .raw("u16", 2, le(2).putShort((short) 60000).array())
                .raw("i16", 3, le(2).putShort((short) -300).array())
                .u32("u32", 4_000_000_000L)
                .raw("i32", 5, le(4).putInt(-7).array())
                .f32("f32", 1.5f)
                .bool("bool", true)
                .string("str", "héllo")
                .raw("u64", 10, le(8).putLong(1L << 40).array())
                .raw("i64", 11, le(8).putLong(-(1L << 40)).array())
                .raw("f64", 12, le(8).putDouble(0.25).array())
                .floats("floats", 1f, -2f)
                .raw("nested", GgufTestWriter.ARRAY, nested.toByteArray());
        Path file = dir.resolve("meta.gguf");
        Files.write(file, w.build());
        try (GgufFile g = GgufFile.open(file)) {
            GgufMetadata md = g.metadata();
            assertEquals(200, md.getInt("u8"));
            assertEquals(-3, md.getInt("i8"));
            assertEquals(60000, md.getInt("u16"));
            assertEquals(-300, md.getInt("i16"));
            assertEquals(4_000_000_000L, md.getLong("u32"));
            assertEquals(-7, md.getInt("i32"));
            assertEquals(1.5f, md.getFloat("f32"));
            assertTrue(md.getBoolean("bool"));
            assertEquals("héllo", md.getString("str"));
            assertEquals(1L << 40, md.getLong("u64"));
            assertEquals(-(1L << 40), md.getLong("i64"));
            assertEquals(0.25f, md.getFloat("f64"));
            assertArrayEquals(new float[] {1f, -2f}, md.getArray("floats").floats());
            GgufArray[] inner = md.getArray("nested").arrays();
            assertArrayEquals(new long[] {1, 255}, inner[0].longs());
            assertEquals("x", inner[1].string(0));
            assertEquals(GgufValueType.FLOAT64, md.type("f64"));
            assertEquals(7, md.getInt("missing", 7));

            ModelFormatException tooBig = assertThrows(ModelFormatException.class, () -> md.getInt("u32"));
            assertTrue(tooBig.getMessage().contains("u32 = 4000000000 does not fit a 32-bit int"), tooBig.getMessage());
            ModelFormatException wrong = assertThrows(ModelFormatException.class, () -> md.getString("f32"));
            assertTrue(wrong.getMessage().contains("metadata f32 has type FLOAT32, expected STRING"), wrong.getMessage());
            ModelFormatException missing = assertThrows(ModelFormatException.class, () -> md.getLong("nope"));
            assertTrue(missing.getMessage().contains("metadata key nope is missing"), missing.getMessage());
        }
    }
}
