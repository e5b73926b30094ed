package dev.ffmllama.format;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Writes the seed corpora of the fuzz tests (dev.ffmllama.fuzz) under
 * {@code src/test/resources/dev/ffmllama/fuzz/<Test>Inputs/<method>/}: small valid files of every
 * format plus a few near misses, so the fuzzer starts from inputs that reach deep into each parser.
 * Run once when a format changes:
 * {@code java -cp target/classes:target/test-classes dev.ffmllama.format.FuzzSeeds src/test/resources ../shared}
 * (the seeds are committed; crash reproducers found later go into the same folders).
 */
public final class FuzzSeeds {
    private FuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]).resolve("dev/ffmllama/fuzz");
        Path shared = Path.of(args[1]).resolve("models");
        gguf(root.resolve("GgufFuzzTestInputs/ggufModel"));
        checkpoints(root.resolve("Llama2cCheckpointFuzzTestInputs/checkpoint"), shared);
        tokenizers(root.resolve("Llama2cTokenizerFuzzTestInputs/tokenizerFile"), shared);
        npy(root.resolve("NpyFuzzTestInputs/npy"));
    }

    private static void gguf(Path dir) throws IOException {
        write(dir, "tiny-llama-1-block.gguf", GgufTestWriter.tinyLlama(1).build());
        write(dir, "tiny-llama-2-blocks-align8.gguf", GgufTestWriter.tinyLlama(2).alignment(8).build());
        write(dir, "metadata-only.gguf", new GgufTestWriter()
                .string("general.architecture", "llama")
                .u32("llama.block_count", 1)
                .bool("flag", true)
                .floats("floats", 1, 2, 3)
                .strings("tokenizer.ggml.tokens", "<unk>", "<s>", "</s>")
                .build());
        write(dir, "one-q8-tensor-v2.gguf", new GgufTestWriter().version(2)
                .tensor("t", GgmlType.Q8_0.id(), new long[] {32, 2}, new byte[2 * 34], null)
                .build());
    }

    private static void checkpoints(Path dir, Path shared) throws IOException {
        write(dir, "tiny-shared-classifier.bin", llama2c(4, 6, 1, 2, 1, 3, 2));
        write(dir, "tiny-separate-classifier.bin", llama2c(4, 6, 2, 2, 2, -3, 2));
        byte[] stories = Files.readAllBytes(shared.resolve("stories260K.bin"));
        write(dir, "stories260K-first-64-bytes.bin", Arrays.copyOf(stories, 64));
        byte[] header = Arrays.copyOf(stories, Llama2cCheckpoint.HEADER_BYTES);
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(20, -512);
        write(dir, "stories260K-header-negative-vocab.bin", header);
    }

    /** A self-consistent llama2.c checkpoint of the given header, weights 0.01 * index. */
    private static byte[] llama2c(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seqLen) {
        int kvDim = dim / heads * kvHeads;
        int v = Math.abs(vocab);
        long floats = (long) v * dim + layers * (2L * dim + 2L * dim * dim + 2L * kvDim * dim + 3L * hidden * dim)
                + dim + (long) seqLen * (dim / heads) + (vocab < 0 ? (long) v * dim : 0);
        ByteBuffer b = ByteBuffer.allocate((int) (Llama2cCheckpoint.HEADER_BYTES + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        for (int field : new int[] {dim, hidden, layers, heads, kvHeads, vocab, seqLen}) b.putInt(field);
        for (int i = 0; i < floats; i++) b.putFloat(0.01f * i);
        return b.array();
    }

    private static void tokenizers(Path dir, Path shared) throws IOException {
        write(dir, "tok512.bin", Files.readAllBytes(shared.resolve("tok512.bin")));
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * 8 + 20).order(ByteOrder.LITTLE_ENDIAN).putInt(5);
        for (String piece : new String[] {"<unk>", "<s>", "</s>", " a"}) {
            byte[] bytes = piece.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            b.putFloat(-1f).putInt(bytes.length).put(bytes);
        }
        write(dir, "four-tokens.bin", Arrays.copyOf(b.array(), b.position()));
    }

    private static void npy(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (Tensor t = Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            Npy.write(dir.resolve("f4-2x3.npy"), t);
        }
        try (Tensor t = Tensor.allocate(DType.I32, 4)) {
            Npy.write(dir.resolve("i4-4.npy"), t);
        }
        try (Tensor t = Tensor.allocate(DType.I64, 1, 2)) {
            Npy.write(dir.resolve("i8-1x2.npy"), t);
        }
        String dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }";
        ByteBuffer b = ByteBuffer.allocate(12 + dict.length() + 1 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 3, 0}).putInt(dict.length() + 1)
                .put(dict.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) '\n').putFloat(1f);
        write(dir, "v3-fortran-order.npy", b.array());
    }

    private static void write(Path dir, String name, byte[] bytes) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), bytes);
    }
}
