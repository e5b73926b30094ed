package dev.ffmllama.layout;

import dev.ffmllama.kernels.KvOrder;
import dev.ffmllama.tensor.WeightType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Memory-layout decisions of the forward pass, each a real code path that can be flipped on its own to see
 * what it does to speed and bytes moved ({@code --layout key=value,...}; docs/layouts.md). Weight layouts
 * belong to the model load ({@code LoadOptions.withLayout}), KV-cache layouts to a session
 * ({@code SessionOptions.withLayout}); {@link #weightPart()} and {@link #cachePart()} split one spec in two.
 *
 * @param qkv       {@code qkv=separate|fused}: Wq, Wk, Wv as three matrices, or copied at load into one
 *                  {@code [dim + 2 kvDim, dim]} matrix applied by one matmul (q, k, v are then offsets)
 * @param ffn       {@code ffn=separate|fused}: W1 (gate) and W3 (up) as two matrices, or one {@code [2 hidden, dim]}
 * @param matrix    {@code matrix=auto|rows|transposed}: every F32 matrix as stored ({@code [out, in]}), or copied
 *                  at load as {@code Wᵀ [in, out]} and applied by the transposed kernel; {@code auto} (the default)
 *                  gives each backend the order its kernels stream fastest: native sessions get transposed
 *                  copies of the F32 matrices, made when the first native session opens (OpenBLAS's
 *                  {@code sgemv_n} kernel outruns its {@code sgemv_t}: 1.3–2× decode on this project's
 *                  machines), while the Java backends read the rows, in place or, where the file leaves an F32
 *                  matrix off a 64-byte boundary, from an aligned copy made when the first Java session opens
 * @param kv        {@code kv=token-major|head-major}: a layer's KV cache as {@code [pos][kvDim]} or
 *                  {@code [kvHead][pos][headSize]}
 * @param kvType    {@code kv-type=f32|f16}: KV cache elements ({@link WeightType#F32} or {@link WeightType#F16})
 * @param align     {@code align=mapped|64}: weights used in place in the file mapping, or copied into
 *                  64-byte-aligned off-heap memory
 * @param hugePages {@code hugepages=off|on}: madvise(MADV_HUGEPAGE) on the weights and the session's buffers
 */
public record Layout(Fusion qkv, Fusion ffn, MatrixOrder matrix, KvOrder kv, WeightType kvType, Alignment align,
                     boolean hugePages) {

    /** Whether several projections that read the same input are one matrix. */
    public enum Fusion { SEPARATE, FUSED }

    /**
     * How an F32 weight matrix is stored: {@code AUTO} transposes F32 matrices for native sessions only
     * (other storage types stay rows), {@code ROWS} never, {@code TRANSPOSED} always (F32 weights only).
     */
    public enum MatrixOrder { AUTO, ROWS, TRANSPOSED }

    /** Where the weights live. */
    public enum Alignment { MAPPED, ALIGNED_64 }

    public Layout {
        if (qkv == null || ffn == null || matrix == null || kv == null || kvType == null || align == null) {
            throw new IllegalArgumentException("every layout field is required (use Layout.defaults())");
        }
        if (kvType != WeightType.F32 && kvType != WeightType.F16) {
            throw new IllegalArgumentException("kv-type must be f32 or f16, got " + kvType);
        }
    }

    /**
     * The layout of llama2.c (separate row-major matrices used in place, token-major F32 cache, no huge
     * pages), except that native sessions get transposed F32 matrices ({@code matrix=auto}).
     */
    public static Layout defaults() {
        return new Layout(Fusion.SEPARATE, Fusion.SEPARATE, MatrixOrder.AUTO, KvOrder.TOKEN_MAJOR, WeightType.F32,
                Alignment.MAPPED, false);
    }

    // ---- the spec language: key=value,... ------------------------------------------------------------

    private static final Map<String, List<String>> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put("qkv", List.of("separate", "fused"));
        KEYS.put("ffn", List.of("separate", "fused"));
        KEYS.put("matrix", List.of("auto", "rows", "transposed"));
        KEYS.put("kv", List.of("token-major", "head-major"));
        KEYS.put("kv-type", List.of("f32", "f16"));
        KEYS.put("align", List.of("mapped", "64"));
        KEYS.put("hugepages", List.of("off", "on"));
    }

    /**
     * Parses {@code key=value,...} (keys and values as in the record's documentation; case-insensitive; an empty
     * or {@code default} spec is {@link #defaults()}); later keys override earlier ones.
     *
     * @throws IllegalArgumentException naming the bad key or value and the valid ones
     */
    public static Layout parse(String spec) {
        Layout l = defaults();
        if (spec == null) return l;
        String trimmed = spec.trim();
        if (trimmed.isEmpty() || trimmed.equalsIgnoreCase("default")) return l;
        for (String item : trimmed.split(",")) {
            String[] kv = item.split("=", -1);
            if (kv.length != 2) {
                throw new IllegalArgumentException("layout item '" + item.trim() + "' is not key=value (keys: "
                        + String.join(", ", KEYS.keySet()) + ")");
            }
            l = l.with(kv[0].trim().toLowerCase(Locale.ROOT), kv[1].trim().toLowerCase(Locale.ROOT));
        }
        return l;
    }

    /** This layout with one key set to one value of the spec language. */
    public Layout with(String key, String value) {
        List<String> values = KEYS.get(key);
        if (values == null) {
            throw new IllegalArgumentException("unknown layout key '" + key + "' (expected one of "
                    + String.join(", ", KEYS.keySet()) + ")");
        }
        int i = values.indexOf(value);
        if (i < 0) {
            throw new IllegalArgumentException("layout " + key + "=" + value + ": expected " + key + "="
                    + String.join("|", values));
        }
        boolean second = i == 1;
        return switch (key) {
            case "qkv" -> new Layout(second ? Fusion.FUSED : Fusion.SEPARATE, ffn, matrix, kv, kvType, align, hugePages);
            case "ffn" -> new Layout(qkv, second ? Fusion.FUSED : Fusion.SEPARATE, matrix, kv, kvType, align, hugePages);
            case "matrix" -> new Layout(qkv, ffn, MatrixOrder.values()[i], kv, kvType, align, hugePages);
            case "kv" -> new Layout(qkv, ffn, matrix, second ? KvOrder.HEAD_MAJOR : KvOrder.TOKEN_MAJOR, kvType, align,
                    hugePages);
            case "kv-type" -> new Layout(qkv, ffn, matrix, kv, second ? WeightType.F16 : WeightType.F32, align,
                    hugePages);
            case "align" -> new Layout(qkv, ffn, matrix, kv, kvType, second ? Alignment.ALIGNED_64 : Alignment.MAPPED,
                    hugePages);
            case "hugepages" -> new Layout(qkv, ffn, matrix, kv, kvType, align, second);
            default -> throw new AssertionError(key);
        };
    }

    /** The spec of this layout: its non-default keys ({@code "default"} if none), parseable by {@link #parse}. */
    @Override
    public String toString() {
        List<String> items = new ArrayList<>();
        Layout d = defaults();
        if (qkv != d.qkv) items.add("qkv=fused");
        if (ffn != d.ffn) items.add("ffn=fused");
        if (matrix != d.matrix) items.add("matrix=" + matrix.name().toLowerCase(Locale.ROOT));
        if (kv != d.kv) items.add("kv=head-major");
        if (kvType != d.kvType) items.add("kv-type=f16");
        if (align != d.align) items.add("align=64");
        if (hugePages) items.add("hugepages=on");
        return items.isEmpty() ? "default" : String.join(",", items);
    }

    /** The keys that concern the model load (qkv, ffn, matrix, align, hugepages); the KV-cache keys default. */
    public Layout weightPart() {
        Layout d = defaults();
        return new Layout(qkv, ffn, matrix, d.kv, d.kvType, align, hugePages);
    }

    /** The keys that concern a session (kv, kv-type, hugepages); the weight keys default. */
    public Layout cachePart() {
        Layout d = defaults();
        return new Layout(d.qkv, d.ffn, d.matrix, kv, kvType, d.align, hugePages);
    }

    /** Whether any KV-cache key differs from the default (such a layout is a session's, not a load's). */
    public boolean hasCacheKeys() {
        return kv != KvOrder.TOKEN_MAJOR || kvType != WeightType.F32;
    }

    /** Whether any weight key differs from the default (such a layout is a load's, not a session's). */
    public boolean hasWeightKeys() {
        return qkv != Fusion.SEPARATE || ffn != Fusion.SEPARATE || matrix != MatrixOrder.AUTO
                || align != Alignment.MAPPED;
    }

    /**
     * The layouts {@code bench --layouts all} compares with the default: each key flipped on its own (both
     * fixed matrix orders), then both fusions together.
     */
    public static List<Layout> benchVariants() {
        return List.of(parse("qkv=fused"), parse("ffn=fused"), parse("qkv=fused,ffn=fused"),
                parse("matrix=rows"), parse("matrix=transposed"), parse("kv=head-major"), parse("kv-type=f16"), parse("align=64"),
                parse("hugepages=on"));
    }
}
