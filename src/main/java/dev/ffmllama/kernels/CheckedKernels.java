package dev.ffmllama.kernels;

import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * The decorator every {@link Backend} wraps its kernels in: it validates each segment-level argument and
 * only then delegates, so that bad input becomes an exception naming the operand and the sizes instead of
 * a native out-of-bounds access or a JVM crash.
 *
 * <p>Checks: sizes are positive (row counts may be 0, which does nothing) and their products do not
 * overflow; segments are non-null (except optional operands), alive ({@link IllegalStateException}
 * otherwise), off-heap, float-aligned and at least as large as the op reads or writes; scalars
 * ({@code eps}, {@code alpha}, {@code momentum}, {@code theta}) are in range. Aliasing that the C API
 * forbids (attention and matmul outputs over their inputs) is rejected too.
 */
final class CheckedKernels implements Kernels {
    private final Kernels raw;

    CheckedKernels(Kernels raw) {
        this.raw = raw;
    }

    @Override
    public Backend backend() {
        return raw.backend();
    }

    // ---- normalization ---------------------------------------------------------------------------

    @Override
    public void rmsnorm(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) {
        normRows(x, y, rows, d, eps);
        floats("weight", w, d, "d");
        if (rows > 0) raw.rmsnorm(x, w, y, rows, d, eps);
    }

    @Override
    public void rmsnormGemma(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) {
        normRows(x, y, rows, d, eps);
        floats("weight", w, d, "d");
        if (rows > 0) raw.rmsnormGemma(x, w, y, rows, d, eps);
    }

    @Override
    public void layernorm(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d,
                          float eps) {
        normRows(x, y, rows, d, eps);
        optionalFloats("weight", w, d);
        optionalFloats("bias", b, d);
        if (rows > 0) raw.layernorm(x, w, b, y, rows, d, eps);
    }

    @Override
    public void addRmsnorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment rOut,
                           MemorySegment y, long rows, long d, float eps) {
        long n = normRows(x, y, rows, d, eps);
        floats("residual", residual, n, "rows*d");
        floats("weight", w, d, "d");
        floats("r_out", rOut, n, "rows*d");
        if (rows > 0) raw.addRmsnorm(x, residual, w, rOut, y, rows, d, eps);
    }

    @Override
    public void addLayernorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment b,
                             MemorySegment rOut, MemorySegment y, long rows, long d, float eps) {
        long n = normRows(x, y, rows, d, eps);
        floats("residual", residual, n, "rows*d");
        optionalFloats("weight", w, d);
        optionalFloats("bias", b, d);
        floats("r_out", rOut, n, "rows*d");
        if (rows > 0) raw.addLayernorm(x, residual, w, b, rOut, y, rows, d, eps);
    }

    @Override
    public void deepnorm(MemorySegment x, MemorySegment f, float alpha, MemorySegment w, MemorySegment b,
                         MemorySegment y, long rows, long d, float eps) {
        requireFinite("alpha", alpha);
        long n = normRows(x, y, rows, d, eps);
        floats("f", f, n, "rows*d");
        optionalFloats("weight", w, d);
        optionalFloats("bias", b, d);
        if (rows > 0) raw.deepnorm(x, f, alpha, w, b, y, rows, d, eps);
    }

    @Override
    public void batchnormInfer(MemorySegment x, MemorySegment runningMean, MemorySegment runningVar,
                               MemorySegment gamma, MemorySegment beta, MemorySegment y, long rows, long d,
                               float eps) {
        normRows(x, y, rows, d, eps);
        floats("running_mean", runningMean, d, "d");
        floats("running_var", runningVar, d, "d");
        optionalFloats("weight (gamma)", gamma, d);
        optionalFloats("bias (beta)", beta, d);
        if (rows > 0) raw.batchnormInfer(x, runningMean, runningVar, gamma, beta, y, rows, d, eps);
    }

    @Override
    public void batchnormTrain(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runningMean,
                               MemorySegment runningVar, MemorySegment y, long rows, long d, float eps,
                               float momentum) {
        if (rows < 2) {
            // Same wording as PyTorch: one row has no variance to estimate.
            throw new IllegalArgumentException("Expected more than 1 value per channel when training, got rows = "
                    + rows + " for d = " + d);
        }
        requireFinite("momentum", momentum);
        if (momentum < 0 || momentum > 1) {
            throw new IllegalArgumentException("momentum must be in [0, 1], got " + momentum);
        }
        normRows(x, y, rows, d, eps);
        optionalFloats("weight (gamma)", gamma, d);
        optionalFloats("bias (beta)", beta, d);
        floats("running_mean", runningMean, d, "d");
        floats("running_var", runningVar, d, "d");
        raw.batchnormTrain(x, gamma, beta, runningMean, runningVar, y, rows, d, eps, momentum);
    }

    // ---- elementwise, attention, linear ----------------------------------------------------------

    @Override
    public void softmax(MemorySegment x, MemorySegment y, long rows, long d) {
        long n = rowsTimesD(rows, d);
        floats("x", x, n, "rows*d");
        floats("y", y, n, "rows*d");
        if (rows > 0) raw.softmax(x, y, rows, d);
    }

    @Override
    public void rope(MemorySegment x, long rows, long nHeads, long headSize, long pos0, float theta) {
        requireNonNegative("rows", rows);
        requireNonNegative("pos0", pos0);
        requirePositive("n_heads", nHeads);
        requirePositive("head_size", headSize);
        if (headSize % 2 != 0) {
            throw new IllegalArgumentException("head_size must be even for RoPE (rotated pairs), got " + headSize);
        }
        if (!(theta > 0) || !Float.isFinite(theta)) {
            throw new IllegalArgumentException("theta must be finite and > 0, got " + theta);
        }
        requirePositionsFit(pos0, rows);
        floats("x", x, product("rows*n_heads*head_size", rows, nHeads, headSize), "rows*n_heads*head_size");
        if (rows > 0) raw.rope(x, rows, nHeads, headSize, pos0, theta);
    }

    @Override
    public void siluMul(MemorySegment gate, MemorySegment up, MemorySegment out, long n) {
        if (elementwise("gate", gate, "up", up, out, n)) raw.siluMul(gate, up, out, n);
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        if (elementwise("a", a, "b", b, out, n)) raw.add(a, b, out, n);
    }

    @Override
    public void attention(MemorySegment q, MemorySegment kCache, MemorySegment vCache, MemorySegment out,
                          MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads, long headSize) {
        requireNonNegative("rows", rows);
        requireNonNegative("pos0", pos0);
        requirePositive("n_heads", nHeads);
        requirePositive("n_kv_heads", nKvHeads);
        requirePositive("head_size", headSize);
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("n_heads (" + nHeads + ") must be a multiple of n_kv_heads ("
                    + nKvHeads + ")");
        }
        requirePositionsFit(pos0, rows);
        long positions = pos0 + rows;
        long qFloats = product("rows*n_heads*head_size", rows, nHeads, headSize);
        long cacheFloats = product("(pos0+rows)*n_kv_heads*head_size", positions, nKvHeads, headSize);
        floats("q", q, qFloats, "rows*n_heads*head_size");
        floats("k_cache", kCache, cacheFloats, "(pos0+rows)*n_kv_heads*head_size");
        floats("v_cache", vCache, cacheFloats, "(pos0+rows)*n_kv_heads*head_size");
        floats("out", out, qFloats, "rows*n_heads*head_size");
        floats("scratch", scratch, product("n_heads*(pos0+rows)", nHeads, positions, 1), "n_heads*(pos0+rows)");
        disjoint("out", out, "q", q);
        disjoint("out", out, "k_cache", kCache);
        disjoint("out", out, "v_cache", vCache);
        disjoint("scratch", scratch, "out", out);
        if (rows > 0) raw.attention(q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize);
    }

    @Override
    public void attention(KvOrder order, WeightType kvType, MemorySegment q, MemorySegment kCache,
                          MemorySegment vCache, MemorySegment out, MemorySegment scratch, long rows, long pos0,
                          long nHeads, long nKvHeads, long headSize, long capacity) {
        if (order == null) throw new IllegalArgumentException("KV cache order is required");
        if (kvType != WeightType.F32 && kvType != WeightType.F16) {
            throw new IllegalArgumentException("a KV cache holds F32 or F16 elements, not " + kvType);
        }
        requireNonNegative("rows", rows);
        requireNonNegative("pos0", pos0);
        requirePositive("n_heads", nHeads);
        requirePositive("n_kv_heads", nKvHeads);
        requirePositive("head_size", headSize);
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("n_heads (" + nHeads + ") must be a multiple of n_kv_heads ("
                    + nKvHeads + ")");
        }
        requirePositionsFit(pos0, rows);
        long positions = pos0 + rows;
        if (capacity < positions) {
            throw new IllegalArgumentException("capacity (" + capacity + ") must be >= pos0 + rows (" + positions + ")");
        }
        long qFloats = product("rows*n_heads*head_size", rows, nHeads, headSize);
        long cacheElements = product("capacity*n_kv_heads*head_size", capacity, nKvHeads, headSize);
        cacheElements("k_cache", kCache, kvType, cacheElements);
        cacheElements("v_cache", vCache, kvType, cacheElements);
        floats("q", q, qFloats, "rows*n_heads*head_size");
        floats("out", out, qFloats, "rows*n_heads*head_size");
        floats("scratch", scratch, product("n_heads*(pos0+rows)", nHeads, positions, 1), "n_heads*(pos0+rows)");
        disjoint("out", out, "q", q);
        disjoint("out", out, "k_cache", kCache);
        disjoint("out", out, "v_cache", vCache);
        disjoint("scratch", scratch, "out", out);
        if (rows > 0) {
            raw.attention(order, kvType, q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize,
                    capacity);
        }
    }

    /** A KV cache of {@code count} elements of {@code type} (F32: float-aligned; F16: 2-byte aligned). */
    private static void cacheElements(String name, MemorySegment s, WeightType type, long count) {
        if (type == WeightType.F32) {
            floats(name, s, count, "capacity*n_kv_heads*head_size");
            return;
        }
        requireSegment(name, s);
        if (s.address() % 2 != 0) {
            throw new IllegalArgumentException(name + " is not 2-byte aligned (address 0x"
                    + Long.toHexString(s.address()) + ") for F16 elements");
        }
        if (s.byteSize() / 2 < count) {
            throw new IllegalArgumentException(name + " holds " + s.byteSize() + " bytes but capacity*n_kv_heads*"
                    + "head_size = " + count + " F16 elements need " + 2 * count);
        }
    }

    @Override
    public void matmulTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        requireNonNegative("rows", rows);
        requirePositive("in", in);
        requirePositive("out", out);
        floats("weight (transposed)", wt, product("in*out", in, out, 1), "in*out");
        floats("x", x, product("rows*in", rows, in, 1), "rows*in");
        floats("y", y, product("rows*out", rows, out, 1), "rows*out");
        disjoint("y", y, "x", x);
        disjoint("y", y, "weight", wt);
        if (rows > 0) raw.matmulTransposed(wt, x, y, rows, in, out);
    }

    @Override
    public void matmul(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        requireNonNegative("rows", rows);
        requirePositive("in", in);
        requirePositive("out", out);
        floats("weight", w, product("out*in", out, in, 1), "out*in");
        floats("x", x, product("rows*in", rows, in, 1), "rows*in");
        floats("y", y, product("rows*out", rows, out, 1), "rows*out");
        disjoint("y", y, "x", x);
        disjoint("y", y, "weight", w);
        if (rows > 0) raw.matmul(w, x, y, rows, in, out);
    }

    @Override
    public void matmul(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in,
                       long out) {
        if (type == null) throw new IllegalArgumentException("weight type is required");
        if (type == WeightType.F32) {
            matmul(w, x, y, rows, in, out);
            return;
        }
        requireNonNegative("rows", rows);
        requirePositive("in", in);
        requirePositive("out", out);
        if (in % type.blockSize() != 0) {
            throw new IllegalArgumentException("in = " + in + " is not a multiple of the " + type + " block size "
                    + type.blockSize() + " (each weight row must be whole blocks)");
        }
        long weightBytes;
        try {
            weightBytes = type.byteSize(out, in);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("out*in overflows for " + type + ": " + out + " * " + in);
        }
        requireSegment("weight", w);
        if (w.byteSize() < weightBytes) {
            throw new IllegalArgumentException("weight holds " + w.byteSize() + " bytes but a [" + out + ", " + in
                    + "] " + type + " matrix (out * in/" + type.blockSize() + " * " + type.blockBytes()
                    + ") needs " + weightBytes);
        }
        floats("x", x, product("rows*in", rows, in, 1), "rows*in");
        floats("y", y, product("rows*out", rows, out, 1), "rows*out");
        disjoint("y", y, "x", x);
        disjoint("y", y, "weight", w);
        if (rows > 0) raw.matmul(type, w, x, y, rows, in, out);
    }

    // ---- the checks --------------------------------------------------------------------------------

    /** The checks every normalization shares: sizes, eps, and the [rows, d] operands x and y; returns rows*d. */
    private static long normRows(MemorySegment x, MemorySegment y, long rows, long d, float eps) {
        if (!(eps >= 0) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        }
        long n = rowsTimesD(rows, d);
        floats("x", x, n, "rows*d");
        floats("y", y, n, "rows*d");
        return n;
    }

    /** Checks a binary element-wise op over n floats; returns whether there is anything to do. */
    private static boolean elementwise(String aName, MemorySegment a, String bName, MemorySegment b,
                                       MemorySegment out, long n) {
        requireNonNegative("n", n);
        product("n", n, 1, 1);
        floats(aName, a, n, "n");
        floats(bName, b, n, "n");
        floats("out", out, n, "n");
        return n > 0;
    }

    /** rows >= 0 (0 is a no-op), d > 0, and rows*d without overflow. */
    private static long rowsTimesD(long rows, long d) {
        requireNonNegative("rows", rows);
        requirePositive("d", d);
        return product("rows*d", rows, d, 1);
    }

    /** A required operand of at least {@code count} floats ({@code formula} says where the count comes from). */
    private static void floats(String name, MemorySegment s, long count, String formula) {
        requireSegment(name, s);
        if (s.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException(name + " is not float-aligned (address 0x"
                    + Long.toHexString(s.address()) + ")");
        }
        long needed = count * Float.BYTES; // count <= Long.MAX_VALUE / 4 (product() checked it)
        if (s.byteSize() < needed) {
            throw new IllegalArgumentException(name + " holds " + s.byteSize() / Float.BYTES + " floats ("
                    + s.byteSize() + " bytes) but " + formula + " = " + count + " floats are needed");
        }
    }

    /** Non-null, alive and off-heap (any alignment: typed weights are byte-packed). */
    private static void requireSegment(String name, MemorySegment s) {
        if (s == null) throw new IllegalArgumentException(name + " is required but was null");
        if (!s.scope().isAlive()) throw new IllegalStateException(name + " has been freed (its arena is closed)");
        if (!s.isNative()) {
            throw new IllegalArgumentException(name + " is a heap segment; kernels need off-heap (native) memory");
        }
    }

    /** An optional [d] operand (weight or bias): null means "not used". */
    private static void optionalFloats(String name, MemorySegment s, long d) {
        if (s != null) floats(name, s, d, "d");
    }

    /** a*b*c as a float count that also fits in bytes, or an exception naming the formula. */
    private static long product(String formula, long a, long b, long c) {
        try {
            long n = Math.multiplyExact(Math.multiplyExact(a, b), c);
            Math.multiplyExact(n, (long) Float.BYTES);
            return n;
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(formula + " overflows: " + a + " * " + b + " * " + c);
        }
    }

    private static void requirePositionsFit(long pos0, long rows) {
        if (pos0 > Long.MAX_VALUE - rows) {
            throw new IllegalArgumentException("pos0 + rows overflows: " + pos0 + " + " + rows);
        }
    }

    private static void requirePositive(String name, long value) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + value);
    }

    private static void requireNonNegative(String name, long value) {
        if (value < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + value);
    }

    private static void requireFinite(String name, float value) {
        if (!Float.isFinite(value)) throw new IllegalArgumentException(name + " must be finite, got " + value);
    }

    /** Rejects overlapping memory where the C API says an output must not alias an input. */
    private static void disjoint(String name, MemorySegment a, String otherName, MemorySegment b) {
        boolean overlap = a.byteSize() > 0 && b.byteSize() > 0
                && a.address() < b.address() + b.byteSize() && b.address() < a.address() + a.byteSize();
        if (overlap) throw new IllegalArgumentException(name + " must not overlap " + otherName);
    }
}
