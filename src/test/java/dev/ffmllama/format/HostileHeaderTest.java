package dev.ffmllama.format;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Header fields that claim enormous sizes fail fast, naming the field, and cost nothing: the parser
 * must not build tables, buffers or tensors sized from a field before checking it against the file.
 * Each case here was an actual finding of the fuzz tests (minutes of work or GBs of memory before
 * the error) and is also kept as a seed under src/test/resources/dev/ffmllama/fuzz.
 */
class HostileHeaderTest {
    /** Generous: the real cost is a few kB; a regression costs hundreds of MB. */
    private static final long MAX_HEAP_BYTES = 4 << 20;
    private static final long MAX_MILLIS = 2_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @TempDir
    Path dir;

    @Test
    void llama2cHugeLayerCount() throws IOException {
        ByteBuffer b = le(64);
        for (int field : new int[] {64, 172, 1 << 30, 8, 4, 512, 512}) b.putInt(field);
        Path file = write("layers.bin", b.array());
        assertCheapFailure(ModelFormatException.class, () -> ModelFiles.open(file).close(), "n_layers=1073741824");
    }

    @Test
    void ggufHugeBlockCount() throws IOException {
        GgufTestWriter w = new GgufTestWriter().string("general.architecture", "llama")
                .u32("llama.embedding_length", 8).u32("llama.feed_forward_length", 12)
                .u32("llama.block_count", Integer.MAX_VALUE).u32("llama.attention.head_count", 2)
                .u32("llama.context_length", 16).f32Tensor("token_embd.weight", 0, 6, 8);
        Path file = write("blocks.gguf", w.build());
        assertCheapFailure(ModelFormatException.class, () -> ModelFiles.open(file).close(),
                "has no tensor blk.0.attn_norm.weight");
    }

    @Test
    void ggufTensorCountOf2To40() throws IOException {
        ByteBuffer b = le(64).put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(1L << 40).putLong(0);
        Path file = write("count.gguf", b.array());
        assertCheapFailure(ModelFormatException.class, () -> ModelFiles.open(file).close(),
                "tensor count is 1099511627776");
    }

    @Test
    void npyHeaderLengthPastEndOfFile() throws IOException {
        ByteBuffer b = le(32).put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(Integer.MAX_VALUE - 64);
        Path file = write("header.npy", b.array());
        assertCheapFailure(NpyException.class, () -> Npy.readHeader(file), "ends inside the header");
    }

    @Test
    void npyShapeFarLargerThanTheData() throws IOException {
        Path floats = npy("floats.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }");
        assertCheapFailure(NpyException.class, () -> Npy.readFloats(floats).close(), "truncated");
        Path ids = npy("ids.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (134217727,), }");
        assertCheapFailure(NpyException.class, () -> Npy.readIds(ids), "truncated");
    }

    @Test
    void npyDeeplyNestedHeader() throws IOException {
        Path file = npy("nested.npy", "(".repeat(100_000));
        assertCheapFailure(NpyException.class, () -> Npy.readHeader(file), "nested deeper than");
    }

    private Path npy(String name, String dict) throws IOException {
        byte[] text = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = le(12 + text.length + 8).put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0})
                .putInt(text.length).put(text).putLong(0); // 8 bytes of data
        return write(name, b.array());
    }

    private static void assertCheapFailure(Class<? extends ModelFormatException> type, Executable call, String fragment) {
        long heap0 = THREADS.getCurrentThreadAllocatedBytes();
        long t0 = System.nanoTime();
        ModelFormatException e = assertThrows(type, call);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        long heap = THREADS.getCurrentThreadAllocatedBytes() - heap0;
        assertTrue(e.getMessage().contains(fragment), "expected \"" + fragment + "\" in: " + e.getMessage());
        assertTrue(millis < MAX_MILLIS, "took " + millis + " ms to reject: " + e.getMessage());
        assertTrue(heap < MAX_HEAP_BYTES, "allocated " + heap + " heap bytes to reject: " + e.getMessage());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
