package dev.ffmllama.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelLoadingTest {

    @ParameterizedTest
    @CsvSource({"stories260K, 64, 172, 5, 8, 4, 512, 512", "aidreams260K, 64, 172, 4, 4, 4, 512, 128"})
    void llama2cAndGgufConversionsAgreeOnConfigAndEveryTensor(String model, int dim, int hidden, int layers,
            int heads, int kvHeads, int vocab, int ctx) throws IOException {
        try (ModelFile bin = ModelFiles.open(SharedFiles.model(model + ".bin"));
             ModelFile gguf = ModelFiles.open(SharedFiles.model(model + ".gguf"))) {
            assertInstanceOf(Llama2cCheckpoint.class, bin);
            assertInstanceOf(GgufModel.class, gguf);
            ModelConfig expected = new ModelConfig(dim, hidden, layers, heads, kvHeads, vocab, ctx, 10000f, 1e-5f, true);
            assertEquals(expected, bin.config());
            // llama.cpp's converter writes the tied classifier a second time as output.weight, so the
            // GGUF has a separate classifier holding the same values.
            assertEquals(new ModelConfig(dim, hidden, layers, heads, kvHeads, vocab, ctx, 10000f, 1e-5f, false),
                    gguf.config());

            Map<String, long[]> shapes = LlamaTensorLayout.expectedShapes(bin.config());
            assertEquals(9 * layers + 3, shapes.size());
            for (var e : shapes.entrySet()) {
                Tensor a = bin.tensor(e.getKey(), e.getValue());
                Tensor b = gguf.tensor(e.getKey(), e.getValue());
                assertEquals(DType.F32, a.dtype());
                assertArrayEquals(e.getValue(), a.shape(), e.getKey());
                assertArrayEquals(a.toFloatArray(), b.toFloatArray(), e.getKey());
                assertTrue(inside(a.segment(), bin.mapping()) && inside(b.segment(), gguf.mapping()),
                        "zero copy: views of the mapping");
            }
        }
    }

    @Test
    void llama2cTiedClassifierIsAViewOfTheEmbedding() throws IOException {
        try (ModelFile bin = ModelFiles.open(SharedFiles.model("stories260K.bin"))) {
            Tensor emb = bin.tensor(LlamaTensorLayout.TOKEN_EMBEDDING);
            Tensor out = bin.tensor(LlamaTensorLayout.OUTPUT);
            assertEquals(emb.segment().address(), out.segment().address());
            // The first floats after the 28-byte header are the embedding's first row.
            assertEquals(readFloatAt(bin.path(), 28), emb.getFloat(0, 0));
            assertEquals(readFloatAt(bin.path(), 28 + 4 * 63), emb.getFloat(0, 63));
            // The file ends with the final norm and the two unused RoPE tables (2 x 512 x 4 floats).
            long normOffset = Files.size(bin.path()) - 4L * (64 + 2 * 512 * 4);
            assertEquals(readFloatAt(bin.path(), (int) normOffset), bin.tensor("output_norm.weight").getFloat(0));
        }
    }

    @Test
    void ggufTiedClassifierWhenOutputWeightIsAbsent(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tied.gguf");
        Files.write(file, GgufTestWriter.tinyLlama(2).build());
        try (ModelFile m = ModelFiles.open(file)) {
            assertEquals(new ModelConfig(8, 12, 2, 2, 1, 6, 16, 10000f, 1e-6f, true), m.config());
            assertTrue(m.hasTensor(LlamaTensorLayout.OUTPUT));
            assertEquals(m.tensor(LlamaTensorLayout.TOKEN_EMBEDDING).segment().address(),
                    m.tensor(LlamaTensorLayout.OUTPUT, 6, 8).segment().address());
            Tensor q = m.tensor(LlamaTensorLayout.block(1, LlamaTensorLayout.ATTN_K), 4, 8);
            assertEquals(q.getFloat(0, 1) + 8, q.getFloat(1, 1)); // filled with seed + index, rows of 8
            Vocabulary v = m.vocabulary().orElseThrow();
            assertEquals(6, v.size());
            assertEquals(1, v.bosId());
            assertEquals(2, v.eosId());
            assertTrue(v.addBos() && v.addSpacePrefix());
            assertEquals(-0.5f, v.scores()[5]);
            assertEquals(Vocabulary.TYPE_CONTROL, v.tokenTypes()[1]);
        }
    }

    @Test
    void f16ModelOpensButItsF16TensorsAreRefusedByName() throws IOException {
        try (GgufModel m = (GgufModel) ModelFiles.open(SharedFiles.golden("quant/tiny32-f16.gguf"))) {
            assertEquals(new ModelConfig(128, 384, 4, 4, 2, 512, 256, 10000f, 1e-5f, false), m.config());
            GgufFile g = m.gguf();
            assertEquals(3, g.version());
            assertEquals(1, g.metadata().getInt("general.file_type"));
            assertEquals(2, g.metadata().getInt("general.quantization_version"));
            assertEquals("llama", g.metadata().getString("general.name"));
            assertEquals(GgufValueType.UINT32, g.metadata().type("llama.block_count"));
            assertEquals(39, g.tensorInfos().size());

            GgufTensorInfo q = g.tensorInfo("blk.0.attn_q.weight").orElseThrow();
            assertEquals(GgmlType.F16, q.type());
            assertArrayEquals(new long[] {128, 128}, q.shape());
            assertEquals(128 * 128 * 2, q.byteSize());
            assertEquals(q.byteSize(), g.tensorData(q).byteSize());

            var e = assertThrows(ModelFormatException.class, () -> m.tensor("blk.0.attn_q.weight", 128, 128));
            assertTrue(e.getMessage().contains("tensor blk.0.attn_q.weight has type F16, which is not supported (supported: F32)"),
                    e.getMessage());
            Tensor norm = m.tensor("output_norm.weight", 128);
            assertEquals(128, norm.elementCount());

            Vocabulary v = m.vocabulary().orElseThrow();
            assertEquals(512, v.size());
            assertEquals("<0x0A>", new String(v.pieces()[13]));
        }
    }

    @Test
    void q8ModelOpensWithItsSizesValidated() throws IOException {
        try (GgufModel m = (GgufModel) ModelFiles.open(SharedFiles.golden("quant/tiny32-q8_0.gguf"))) {
            GgufTensorInfo q = m.gguf().tensorInfo("blk.0.ffn_down.weight").orElseThrow();
            assertEquals(GgmlType.Q8_0, q.type());
            assertArrayEquals(new long[] {128, 384}, q.shape());
            assertEquals(128 * (384 / 32) * 34, q.byteSize());
            var e = assertThrows(ModelFormatException.class, () -> m.tensor("blk.0.ffn_down.weight"));
            assertTrue(e.getMessage().contains("has type Q8_0"), e.getMessage());
        }
    }

    @Test
    void wrongExpectedShapeIsNamed() throws IOException {
        try (ModelFile m = ModelFiles.open(SharedFiles.model("stories260K.bin"))) {
            var e = assertThrows(ModelFormatException.class, () -> m.tensor("blk.0.attn_k.weight", 64, 64));
            assertTrue(e.getMessage().contains("blk.0.attn_k.weight has shape [32, 64]"), e.getMessage());
            var missing = assertThrows(ModelFormatException.class, () -> m.tensor("blk.9.attn_k.weight"));
            assertTrue(missing.getMessage().contains("no tensor blk.9.attn_k.weight"), missing.getMessage());
        }
    }

    @Test
    void closeUnmapsAndIsIdempotent() throws IOException {
        ModelFile m = ModelFiles.open(SharedFiles.model("stories260K.gguf"));
        Tensor t = m.tensor("output_norm.weight");
        assertTrue(t.isAlive());
        m.close();
        m.close();
        assertFalse(t.isAlive());
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
    }

    private static float readFloatAt(Path p, int offset) throws IOException {
        byte[] b = Files.readAllBytes(p);
        return java.nio.ByteBuffer.wrap(b, offset, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat();
    }

    /** Whether {@code view}'s bytes lie inside {@code whole}'s (the same memory, not a copy). */
    private static boolean inside(java.lang.foreign.MemorySegment view, java.lang.foreign.MemorySegment whole) {
        return view.address() >= whole.address()
                && view.address() + view.byteSize() <= whole.address() + whole.byteSize();
    }
}
