package dev.ffmllama.format;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny test-only GGUF writer: metadata entries and tensors in, file bytes out. It can also write
 * fields no valid file has (raw value payloads, offsets, type ids, dimension counts) and records where
 * each section starts so tests can cut files at chosen places.
 */
final class GgufTestWriter {
    static final int UINT8 = 0, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10;

    private record Kv(String key, int type, byte[] payload) {
    }

    private record TensorSpec(String name, int type, long[] ne, byte[] data, Long offsetOverride) {
    }

    private final List<Kv> kvs = new ArrayList<>();
    private final List<TensorSpec> tensors = new ArrayList<>();
    private int version = 3;
    private int alignment = 32;

    /** Offsets of the sections in the last {@link #build()}. */
    long kvStart, tensorInfoStart, dataStart;

    GgufTestWriter version(int v) {
        version = v;
        return this;
    }

    GgufTestWriter alignment(int a) {
        alignment = a;
        return u32("general.alignment", a);
    }

    GgufTestWriter raw(String key, int type, byte[] payload) {
        kvs.add(new Kv(key, type, payload));
        return this;
    }

    GgufTestWriter string(String key, String value) {
        return raw(key, STRING, str(value));
    }

    GgufTestWriter u32(String key, long value) {
        return raw(key, UINT32, le(4).putInt((int) value).array());
    }

    GgufTestWriter f32(String key, float value) {
        return raw(key, FLOAT32, le(4).putFloat(value).array());
    }

    GgufTestWriter bool(String key, boolean value) {
        return raw(key, BOOL, new byte[] {(byte) (value ? 1 : 0)});
    }

    GgufTestWriter strings(String key, String... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(le(12).putInt(STRING).putLong(values.length).array());
        for (String v : values) out.writeBytes(str(v));
        return raw(key, ARRAY, out.toByteArray());
    }

    GgufTestWriter floats(String key, float... values) {
        ByteBuffer b = le(12 + 4L * values.length).putInt(FLOAT32).putLong(values.length);
        for (float v : values) b.putFloat(v);
        return raw(key, ARRAY, b.array());
    }

    GgufTestWriter ints(String key, int... values) {
        ByteBuffer b = le(12 + 4L * values.length).putInt(INT32).putLong(values.length);
        for (int v : values) b.putInt(v);
        return raw(key, ARRAY, b.array());
    }

    /** An F32 tensor with the given row-major shape, filled with {@code seed + index}. */
    GgufTestWriter f32Tensor(String name, float seed, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        ByteBuffer b = le(4 * n);
        for (int i = 0; i < n; i++) b.putFloat(seed + i);
        return tensor(name, 0, reverse(shape), b.array(), null);
    }

    /** A tensor with raw fields: GGUF {@code ne} (fastest first), type id, data, optional explicit offset. */
    GgufTestWriter tensor(String name, int type, long[] ne, byte[] data, Long offsetOverride) {
        tensors.add(new TensorSpec(name, type, ne, data, offsetOverride));
        return this;
    }

    byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(le(20).putInt(version).putLong(tensors.size()).putLong(kvs.size()).array());
        kvStart = out.size();
        for (Kv kv : kvs) {
            out.writeBytes(str(kv.key()));
            out.writeBytes(le(4).putInt(kv.type()).array());
            out.writeBytes(kv.payload());
        }
        tensorInfoStart = out.size();
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (TensorSpec t : tensors) {
            long off = t.offsetOverride() != null ? t.offsetOverride() : offset;
            offsets.add(off);
            out.writeBytes(str(t.name()));
            ByteBuffer info = le(4 + 8L * t.ne().length + 4 + 8).putInt(t.ne().length);
            for (long d : t.ne()) info.putLong(d);
            out.writeBytes(info.putInt(t.type()).putLong(off).array());
            offset = align(offset + t.data().length);
        }
        pad(out);
        dataStart = out.size();
        for (int i = 0; i < tensors.size(); i++) {
            TensorSpec t = tensors.get(i);
            if (t.offsetOverride() != null) continue; // data of a bogus offset is not written
            while (out.size() < dataStart + offsets.get(i)) out.write(0);
            out.writeBytes(t.data());
        }
        return out.toByteArray();
    }

    /** A complete, valid llama model: dim 8, hidden 12, {@code layers} blocks, 2 heads, 1 KV head, vocab 6, ctx 16. */
    static GgufTestWriter tinyLlama(int layers) {
        return tinyLlama(layers, 1);
    }

    /** Like {@link #tinyLlama(int)}, with the metadata claiming {@code kvHeadsClaimed} KV heads (tensors are for 1). */
    static GgufTestWriter tinyLlama(int layers, int kvHeadsClaimed) {
        GgufTestWriter w = new GgufTestWriter()
                .string("general.architecture", "llama")
                .u32("llama.embedding_length", 8)
                .u32("llama.feed_forward_length", 12)
                .u32("llama.block_count", layers)
                .u32("llama.attention.head_count", 2)
                .u32("llama.attention.head_count_kv", kvHeadsClaimed)
                .u32("llama.context_length", 16)
                .f32("llama.attention.layer_norm_rms_epsilon", 1e-6f)
                .string("tokenizer.ggml.model", "llama")
                .strings("tokenizer.ggml.tokens", "<unk>", "<s>", "</s>", "\u2581a", "b", "\u2581ab")
                .floats("tokenizer.ggml.scores", 0, 0, 0, -1, -2, -0.5f)
                .ints("tokenizer.ggml.token_type", 2, 3, 3, 1, 1, 1);
        ModelConfig c = new ModelConfig(8, 12, layers, 2, 1, 6, 16, 10000f, 1e-6f, true);
        float seed = 0;
        for (var e : LlamaTensorLayout.expectedShapes(c).entrySet()) {
            if (e.getKey().equals(LlamaTensorLayout.OUTPUT)) continue; // tied
            w.f32Tensor(e.getKey(), seed, e.getValue());
            seed += 1000;
        }
        return w;
    }

    private void pad(ByteArrayOutputStream out) {
        while (out.size() % alignment != 0) out.write(0);
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return le(8 + b.length).putLong(b.length).put(b).array();
    }

    static ByteBuffer le(long size) {
        return ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long[] reverse(long[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[a.length - 1 - i];
        return r;
    }
}
