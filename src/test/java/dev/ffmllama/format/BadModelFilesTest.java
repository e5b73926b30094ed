package dev.ffmllama.format;

import static dev.ffmllama.format.GgufTestWriter.ARRAY;
import static dev.ffmllama.format.GgufTestWriter.STRING;
import static dev.ffmllama.format.GgufTestWriter.UINT8;
import static dev.ffmllama.format.GgufTestWriter.le;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One malformed file per test; each must fail with a {@link ModelFormatException} that names the problem. */
class BadModelFilesTest {
    @TempDir
    Path dir;

    // ---- llama2.c checkpoints -------------------------------------------------------------------

    @Test
    void truncatedLlama2c() throws IOException {
        byte[] good = Files.readAllBytes(SharedFiles.model("stories260K.bin"));
        assertBad(write("stories.bin", Arrays.copyOf(good, 1000)),
                "header says dim=64, hidden_dim=172, n_layers=5, n_heads=8, n_kv_heads=4, vocab_size=512, seq_len=512",
                "needing 1056540 bytes but the file has 1000 bytes (truncated?)");
    }

    @Test
    void llama2cLongerThanItsHeaderSays() throws IOException {
        byte[] good = Files.readAllBytes(SharedFiles.model("stories260K.bin"));
        assertBad(write("stories.bin", Arrays.copyOf(good, good.length + 8)),
                "needing 1056540 bytes but the file has 1056548 bytes", "8 bytes too many");
    }

    @Test
    void llama2cDimsInconsistentWithFileSize() throws IOException {
        byte[] bytes = Files.readAllBytes(SharedFiles.model("stories260K.bin"));
        ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, 128); // dim 64 -> 128
        assertBad(write("stories.bin", bytes), "header says dim=128", "but the file has 1056540 bytes");
    }

    @Test
    void llama2cHeadsNotDividingDim() throws IOException {
        assertBad(llama2cHeader(64, 172, 5, 7, 7, 512, 512), "n_heads 7 does not divide dim 64");
    }

    @Test
    void llama2cKvHeadsNotDividingHeads() throws IOException {
        assertBad(llama2cHeader(64, 172, 5, 8, 3, 512, 512), "n_kv_heads 3 does not divide n_heads 8");
    }

    @Test
    void llama2cZeroLayers() throws IOException {
        assertBad(llama2cHeader(64, 172, 0, 8, 4, 512, 512), "n_layers = 0 must be positive");
    }

    @Test
    void llama2cNegativeHiddenDim() throws IOException {
        assertBad(llama2cHeader(64, -172, 5, 8, 4, 512, 512), "hidden_dim = -172 must be positive");
    }

    @Test
    void llama2cOddHeadSize() throws IOException {
        assertBad(llama2cHeader(24, 172, 5, 8, 4, 512, 512), "head size 3 is odd");
    }

    @Test
    void llama2cHugeDimsOverflowLong() throws IOException {
        int big = Integer.MAX_VALUE - 1;
        assertBad(llama2cHeader(big, big, big, 1, 1, big, big), "header says dim=" + big, "needs more than 2^63 bytes");
    }

    // ---- GGUF --------------------------------------------------------------------------------------

    @Test
    void wrongGgufMagic() throws IOException {
        byte[] bytes = GgufTestWriter.tinyLlama(1).build();
        bytes[3] = 'X';
        Path file = write("bad.gguf", bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
    }

    @Test
    void ggufVersion1() throws IOException {
        assertBad(write("v1.gguf", GgufTestWriter.tinyLlama(1).version(1).build()), "GGUF version 1 is not supported");
    }

    @Test
    void ggufTruncatedInHeader() throws IOException {
        assertBad(write("t.gguf", Arrays.copyOf(GgufTestWriter.tinyLlama(1).build(), 10)),
                "truncated file: tensor count needs 8 bytes at offset 8 but only 2 bytes remain");
    }

    @Test
    void ggufTruncatedInMetadata() throws IOException {
        GgufTestWriter w = GgufTestWriter.tinyLlama(1);
        byte[] bytes = w.build();
        // Cut inside the metadata: the header's entry count then promises more than the file holds.
        assertBad(write("t.gguf", Arrays.copyOf(bytes, (int) w.kvStart + 300)), "truncated file: ", "metadata", "needs");
    }

    @Test
    void ggufTruncatedInTensorInfos() throws IOException {
        GgufTestWriter w = GgufTestWriter.tinyLlama(1);
        byte[] bytes = w.build();
        assertBad(write("t.gguf", Arrays.copyOf(bytes, (int) w.tensorInfoStart + 40)), "truncated file: tensor");
    }

    @Test
    void ggufTruncatedInTensorData() throws IOException {
        byte[] bytes = GgufTestWriter.tinyLlama(1).build();
        assertBad(write("t.gguf", Arrays.copyOf(bytes, bytes.length - 4)),
                "tensor output_norm.weight (F32, 32 bytes", "ends past the end of the file", "(truncated?)");
    }

    @Test
    void ggufStringLengthPastEndOfFile() throws IOException {
        byte[] payload = le(8 + 3).putLong(1_000_000).put(new byte[] {'a', 'b', 'c'}).array();
        GgufTestWriter w = new GgufTestWriter().string("general.architecture", "llama").raw("general.name", STRING, payload);
        assertBad(write("s.gguf", w.build()), "metadata general.name (string of 1000000 bytes) needs 1000000 bytes");
    }

    @Test
    void ggufArrayCountOf2To40() throws IOException {
        byte[] payload = le(12 + 4).putInt(UINT8).putLong(1L << 40).putInt(0).array();
        GgufTestWriter w = new GgufTestWriter().raw("tokenizer.ggml.token_type", ARRAY, payload);
        assertBad(write("a.gguf", w.build()),
                "metadata tokenizer.ggml.token_type is an array of 1099511627776 UINT8 elements but the rest of the file has room for at most");
    }

    @Test
    void ggufTensorOffsetBeyondFile() throws IOException {
        GgufTestWriter w = GgufTestWriter.tinyLlama(1)
                .tensor("extra.weight", 0, new long[] {8}, new byte[32], 1L << 40);
        assertBad(write("o.gguf", w.build()), "tensor extra.weight (F32, 32 bytes at data offset 1099511627776) ends past the end");
    }

    @Test
    void ggufMisalignedTensorOffset() throws IOException {
        GgufTestWriter w = GgufTestWriter.tinyLlama(1).tensor("extra.weight", 0, new long[] {8}, new byte[32], 4L);
        assertBad(write("m.gguf", w.build()), "tensor extra.weight offset 4 is not a multiple of the alignment 32");
    }

    @Test
    void ggufAlignmentNotAPowerOfTwo() throws IOException {
        assertBad(write("al.gguf", GgufTestWriter.tinyLlama(1).u32("general.alignment", 24).build()),
                "general.alignment = 24 is not a positive power of two");
    }

    @Test
    void ggufUnknownTensorType() throws IOException {
        GgufTestWriter w = GgufTestWriter.tinyLlama(1).tensor("extra.weight", 99, new long[] {8}, new byte[32], null);
        assertBad(write("u.gguf", w.build()), "tensor extra.weight has unknown tensor type id 99");
    }

    @Test
    void ggufMoreThanFourDims() throws IOException {
        GgufTestWriter w = GgufTestWriter.tinyLlama(1)
                .tensor("extra.weight", 0, new long[] {1, 1, 1, 1, 8}, new byte[32], null);
        assertBad(write("d.gguf", w.build()), "tensor extra.weight has n_dims 5 (at most 4)");
    }

    @Test
    void ggufRowNotWholeBlocks() throws IOException {
        GgufTestWriter w = GgufTestWriter.tinyLlama(1).tensor("extra.weight", 8, new long[] {40}, new byte[68], null);
        assertBad(write("b.gguf", w.build()), "tensor extra.weight (Q8_0): row length 40 is not a multiple of the Q8_0 block size 32");
    }

    @Test
    void ggufArchitectureNotLlama() throws IOException {
        GgufTestWriter w = new GgufTestWriter().string("general.architecture", "gpt2");
        assertBad(write("g.gguf", w.build()), "general.architecture is 'gpt2', which is not supported (supported: llama)");
    }

    @Test
    void ggufMissingConfigKey() throws IOException {
        GgufTestWriter w = new GgufTestWriter().string("general.architecture", "llama")
                .f32Tensor("token_embd.weight", 0, 4, 8);
        assertBad(write("k.gguf", w.build()), "metadata key llama.attention.head_count is missing");
    }

    @Test
    void ggufTensorShapeDisagreesWithConfig() throws IOException {
        assertBad(write("sh.gguf", GgufTestWriter.tinyLlama(1, 2).build()),
                "tensor blk.0.attn_k.weight has shape [4, 8] but the model config needs [8, 8]");
    }

    @Test
    void ggufMissingBlockTensor() throws IOException {
        GgufTestWriter w = new GgufTestWriter().string("general.architecture", "llama")
                .u32("llama.embedding_length", 8).u32("llama.feed_forward_length", 12).u32("llama.block_count", 1)
                .u32("llama.attention.head_count", 2).u32("llama.context_length", 16)
                .f32Tensor("token_embd.weight", 0, 6, 8);
        assertBad(write("miss.gguf", w.build()), "has no tensor blk.0.attn_norm.weight");
    }

    @Test
    void ggufDuplicateMetadataKey() throws IOException {
        assertBad(write("dup.gguf", GgufTestWriter.tinyLlama(1).u32("llama.block_count", 1).build()),
                "metadata key 'llama.block_count' appears twice");
    }

    @Test
    void ggufUnsupportedTokenizerModel() throws IOException {
        byte[] bytes = GgufTestWriter.tinyLlama(1).build();
        // Flip "llama" in tokenizer.ggml.model to "gpt2x" (same length): find the key's value.
        String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf("tokenizer.ggml.model") + "tokenizer.ggml.model".length() + 4 + 8;
        System.arraycopy("gpt2x".getBytes(), 0, bytes, at, 5);
        Path file = write("tok.gguf", bytes);
        try (ModelFile m = ModelFiles.open(file)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, m::vocabulary);
            assertTrue(e.getMessage().contains("tokenizer.ggml.model is 'gpt2x', which is not supported"), e.getMessage());
        }
    }

    @Test
    void fileTooSmallForAnything() throws IOException {
        assertBad(write("tiny.bin", new byte[] {1, 2, 3}), "fewer than the 28-byte header");
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private Path llama2cHeader(int... fields) throws IOException {
        ByteBuffer b = le(4L * fields.length + 64);
        for (int f : fields) b.putInt(f);
        return write("header.bin", b.array());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static void assertBad(Path file, String... expectedFragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> {
            try (ModelFile m = ModelFiles.open(file)) {
                m.config();
            }
        });
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file.getFileName().toString()), "message names the file: " + msg);
        for (String fragment : expectedFragments) {
            assertTrue(msg.contains(fragment), "expected \"" + fragment + "\" in: " + msg);
        }
    }
}
