package dev.ffmllama.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NpyTest {
    @TempDir
    Path dir;

    /** A .npy file as NumPy lays it out: magic, version, little-endian header length, dict, data. */
    private Path npy(String name, int major, String dict, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        byte[] dictBytes = (dict + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer len = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) len.putShort((short) dictBytes.length); else len.putInt(dictBytes.length);
        out.write(len.array());
        out.write(dictBytes);
        out.write(data);
        Path p = dir.resolve(name);
        Files.write(p, out.toByteArray());
        return p;
    }

    private static byte[] floatsLE(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    @Test
    void roundTripsFloatTensorsOfAnyRank() {
        for (long[] shape : new long[][] {{}, {5}, {2, 3}, {2, 1, 4}, {0, 3}}) {
            float[] values = new float[(int) java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
            for (int i = 0; i < values.length; i++) values[i] = i * 0.5f - 3;
            Path p = dir.resolve("t" + shape.length + ".npy");
            try (Tensor t = Tensor.ofFloats(values, shape)) {
                Npy.write(p, t);
            }
            try (Tensor back = Npy.readFloats(p)) {
                assertArrayEquals(shape, back.shape());
                assertArrayEquals(values, back.toFloatArray());
            }
            assertEquals(0, Npy.readHeader(p).dataOffset() % 64, "data is 64-byte aligned as NumPy writes it");
        }
    }

    @Test
    void readsVersion2And3HeadersAndOldStyleShapes() throws IOException {
        byte[] data = floatsLE(1, 2, 3, 4, 5, 6);
        Path v2 = npy("v2.npy", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data);
        Path v3 = npy("v3.npy", 3, "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(3L,2L)}", data);
        try (Tensor a = Npy.readFloats(v2); Tensor b = Npy.readFloats(v3)) {
            assertArrayEquals(new long[] {2, 3}, a.shape());
            assertArrayEquals(new long[] {3, 2}, b.shape());
            assertEquals(6f, a.getFloat(1, 2));
            assertEquals(6f, b.getFloat(2, 1));
        }
    }

    @Test
    void readsIntegerIds() throws IOException {
        ByteBuffer i4 = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(-2).putInt(300);
        ByteBuffer i8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(7).putLong(1L << 40);
        Path a = npy("a.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", i4.array());
        Path b = npy("b.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", i8.array());
        assertArrayEquals(new int[] {1, -2, 300}, Npy.readIds(a));
        NpyException e = assertThrows(NpyException.class, () -> Npy.readIds(b));
        assertTrue(e.getMessage().contains("does not fit an int"), e.getMessage());
        try (Tensor ids = Tensor.allocate(DType.I64, 2)) {
            ids.segment().setAtIndex(ValueLayout.JAVA_LONG, 1, 42L);
            Path c = dir.resolve("c.npy");
            Npy.write(c, ids);
            assertArrayEquals(new int[] {0, 42}, Npy.readIds(c));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '"', value = {
            "big-endian      ; {'descr': '>f4', 'fortran_order': False, 'shape': (2,), }  ; dtype '>f4' is not supported",
            "float64         ; {'descr': '<f8', 'fortran_order': False, 'shape': (1,), }  ; dtype '<f8' is not supported",
            "object array    ; {'descr': '|O', 'fortran_order': False, 'shape': (2,), }   ; dtype '|O' is not supported",
            "structured      ; {'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), } ; structured",
            "fortran order   ; {'descr': '<f4', 'fortran_order': True, 'shape': (2,), }   ; fortran_order is True",
            "missing shape   ; {'descr': '<f4', 'fortran_order': False, }                 ; exactly the keys",
            "bad shape       ; {'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), } ; non-negative integers",
            "not a dict      ; ['descr', '<f4']                                           ; not a dict",
            "garbage         ; {'descr': '<f4', 'fortran_order': False, 'shape': (2,) ]   ; malformed header",
            "unterminated    ; {'descr': '<f4                                             ; malformed header",
            "truncated data  ; {'descr': '<f4', 'fortran_order': False, 'shape': (3,), }  ; truncated",
            "too much data   ; {'descr': '<f4', 'fortran_order': False, 'shape': (1,), }  ; size mismatch",
    })
    void rejectsWithAMessageNamingTheFileAndProblem(String name, String dict, String expected) throws IOException {
        Path p = npy(name.replace(' ', '_') + ".npy", 1, dict, floatsLE(1, 2));
        NpyException e = assertThrows(NpyException.class, () -> Npy.readFloats(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void rejectsNonNpyAndTruncatedHeaders() throws IOException {
        Path text = dir.resolve("text.npy");
        Files.writeString(text, "hello, this is not numpy");
        assertTrue(assertThrows(NpyException.class, () -> Npy.readFloats(text)).getMessage().contains("bad magic"));
        Path tiny = dir.resolve("tiny.npy");
        Files.write(tiny, new byte[] {(byte) 0x93, 'N', 'U'});
        assertTrue(assertThrows(NpyException.class, () -> Npy.readFloats(tiny)).getMessage().contains("truncated"));
        Path shortHeader = dir.resolve("short.npy");
        Files.write(shortHeader, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'});
        assertTrue(assertThrows(NpyException.class, () -> Npy.readFloats(shortHeader)).getMessage()
                .contains("ends inside the header"));
        Path v9 = npy("v9.npy", 9, "{}", new byte[0]);
        assertTrue(assertThrows(NpyException.class, () -> Npy.readFloats(v9)).getMessage().contains("version 9"));
    }

    @Test
    void rejectsIdsOfFloatType() throws IOException {
        Path p = npy("f.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", floatsLE(1, 2));
        NpyException e = assertThrows(NpyException.class, () -> Npy.readIds(p));
        assertTrue(e.getMessage().contains("not an integer id type"), e.getMessage());
        assertFalse(Npy.readHeader(p).fortranOrder());
    }
}
