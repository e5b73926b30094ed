package dev.ffmllama.kernels;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * Plain scalar Java kernels: the readable reference implementation of {@link Kernels}.
 *
 * <p>The class has two layers:
 * <ul>
 *   <li>the <b>ops</b> (the {@link Kernels} methods) — row loops that compose the primitives below, e.g.
 *       RMSNorm is "sum of squares, then scale"; these are written once, here;</li>
 *   <li>the <b>primitives</b> — protected methods that each run one simple loop over a range
 *       {@code [from, to)} of float elements (reductions, element-wise maps, dot products).
 *       {@link VectorKernels} overrides exactly these with Vector API loops, and calls back into them
 *       for the tail that does not fill a vector, so no algorithm exists twice.</li>
 * </ul>
 * Offsets and lengths are in float elements, not bytes. Reductions accumulate in double so rows with
 * |x| ~ 1e20 (whose squares overflow float) normalize correctly. Nothing is allocated per call.
 * Arguments are not validated here: {@link CheckedKernels} does that before any call.
 *
 * <p>Given a {@link WorkerPool} of more than one thread, matmul (by output rows) and attention (by
 * heads) are split across it when large enough to pay for the handoff; see {@link ParallelRanges}.
 * Such an instance belongs to one session (its tasks hold per-call state); without a pool the
 * instance is stateless and shareable.
 */
class JavaKernels implements Kernels {
    /** Null when single-threaded. */
    private final ParallelRanges parallel;

    JavaKernels() {
        this(null);
    }

    /** @param pool threads to split matmul and attention over; null or a 1-thread pool for none */
    JavaKernels(WorkerPool pool) {
        this.parallel = pool == null || pool.threads() == 1 ? null : new ParallelRanges(this, pool);
    }

    @Override
    public Backend backend() {
        return Backend.JAVA;
    }

    // ---- normalization ops ---------------------------------------------------------------------

    @Override
    public void rmsnorm(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) {
        rmsnormRows(x, w, y, rows, d, eps, 0f);
    }

    @Override
    public void rmsnormGemma(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) {
        rmsnormRows(x, w, y, rows, d, eps, 1f);
    }

    @Override
    public void layernorm(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d,
                          float eps) {
        for (long r = 0; r < rows; r++) {
            layernormRow(x, w, b, y, r * d, d, eps);
        }
    }

    @Override
    public void addRmsnorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment rOut,
                           MemorySegment y, long rows, long d, float eps) {
        for (long r = 0; r < rows; r++) {
            long row = r * d;
            // r = x + residual first (rOut may alias x or residual), then normalize r into y.
            scaledAdd(1f, x, residual, rOut, row, row + d);
            rmsnormRow(rOut, w, y, row, d, eps, 0f);
        }
    }

    @Override
    public void addLayernorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment b,
                             MemorySegment rOut, MemorySegment y, long rows, long d, float eps) {
        for (long r = 0; r < rows; r++) {
            long row = r * d;
            scaledAdd(1f, x, residual, rOut, row, row + d);
            layernormRow(rOut, w, b, y, row, d, eps);
        }
    }

    @Override
    public void deepnorm(MemorySegment x, MemorySegment f, float alpha, MemorySegment w, MemorySegment b,
                         MemorySegment y, long rows, long d, float eps) {
        for (long r = 0; r < rows; r++) {
            long row = r * d;
            // y holds alpha*x + f, then is normalized in place (y may alias x or f: element-wise, no hazard).
            scaledAdd(alpha, x, f, y, row, row + d);
            layernormRow(y, w, b, y, row, d, eps);
        }
    }

    @Override
    public void batchnormInfer(MemorySegment x, MemorySegment runningMean, MemorySegment runningVar,
                               MemorySegment gamma, MemorySegment beta, MemorySegment y, long rows, long d,
                               float eps) {
        // Row by row (contiguous, vectorizable); the per-feature statistics are re-read for every row.
        for (long r = 0; r < rows; r++) {
            batchnormRow(x, y, r * d, runningMean, runningVar, gamma, beta, 0, d, eps);
        }
    }

    @Override
    public void batchnormTrain(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runningMean,
                               MemorySegment runningVar, MemorySegment y, long rows, long d, float eps,
                               float momentum) {
        for (long j = 0; j < d; j++) {
            double sum = 0;
            for (long r = 0; r < rows; r++) sum += x.getAtIndex(JAVA_FLOAT, r * d + j);
            double mean = sum / rows;
            double squaredDeviations = 0;
            for (long r = 0; r < rows; r++) {
                double dev = x.getAtIndex(JAVA_FLOAT, r * d + j) - mean;
                squaredDeviations += dev * dev;
            }
            double biasedVar = squaredDeviations / rows;
            normalizeColumn(x, gamma, beta, y, j, rows, d, (float) mean, (float) (1.0 / Math.sqrt(biasedVar + eps)));
            // The running variance stores the UNBIASED batch variance, as torch.nn.BatchNorm1d does.
            double unbiasedVar = squaredDeviations / (rows - 1);
            runningMean.setAtIndex(JAVA_FLOAT, j,
                    (float) ((1.0 - momentum) * runningMean.getAtIndex(JAVA_FLOAT, j) + momentum * mean));
            runningVar.setAtIndex(JAVA_FLOAT, j,
                    (float) ((1.0 - momentum) * runningVar.getAtIndex(JAVA_FLOAT, j) + momentum * unbiasedVar));
        }
    }

    // ---- elementwise, attention and linear ops --------------------------------------------------

    @Override
    public void softmax(MemorySegment x, MemorySegment y, long rows, long d) {
        for (long r = 0; r < rows; r++) {
            softmaxRow(x, y, r * d, r * d + d);
        }
    }

    @Override
    public void rope(MemorySegment x, long rows, long nHeads, long headSize, long pos0, float theta) {
        long width = nHeads * headSize;
        for (long r = 0; r < rows; r++) {
            long pos = pos0 + r;
            for (long i = 0; i < headSize; i += 2) {
                // The angle depends on the position and the pair only: compute it once for all heads.
                double freq = Math.pow(theta, -(double) i / headSize);
                double angle = pos * freq;
                float cos = (float) Math.cos(angle);
                float sin = (float) Math.sin(angle);
                for (long h = 0; h < nHeads; h++) {
                    long at = r * width + h * headSize + i;
                    float x0 = x.getAtIndex(JAVA_FLOAT, at);
                    float x1 = x.getAtIndex(JAVA_FLOAT, at + 1);
                    x.setAtIndex(JAVA_FLOAT, at, x0 * cos - x1 * sin);
                    x.setAtIndex(JAVA_FLOAT, at + 1, x0 * sin + x1 * cos);
                }
            }
        }
    }

    @Override
    public void siluMul(MemorySegment gate, MemorySegment up, MemorySegment out, long n) {
        siluMulRange(gate, up, out, 0, n);
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        scaledAdd(1f, a, b, out, 0, n);
    }

    @Override
    public void attention(MemorySegment q, MemorySegment kCache, MemorySegment vCache, MemorySegment out,
                          MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads, long headSize) {
        attention(KvOrder.TOKEN_MAJOR, WeightType.F32, q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads,
                headSize, pos0 + rows);
    }

    @Override
    public void attention(KvOrder order, WeightType kvType, MemorySegment q, MemorySegment kCache,
                          MemorySegment vCache, MemorySegment out, MemorySegment scratch, long rows, long pos0,
                          long nHeads, long nKvHeads, long headSize, long capacity) {
        if (parallel != null && parallel.attention(order, kvType, q, kCache, vCache, out, scratch, rows, pos0, nHeads,
                nKvHeads, headSize, capacity)) {
            return;
        }
        attentionHeads(order, kvType, q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize,
                capacity, 0, nHeads);
    }

    /**
     * {@link #attention} for heads {@code [headFrom, headTo)} only (each head has its own scratch row). The cache
     * layout only changes where a head's row at position t starts ({@link KvOrder#offset}) and, for F16, which dot
     * and axpy primitives read it.
     */
    void attentionHeads(KvOrder order, WeightType kvType, MemorySegment q, MemorySegment kCache, MemorySegment vCache,
                        MemorySegment out, MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads,
                        long headSize, long capacity, long headFrom, long headTo) {
        boolean f16 = kvType == WeightType.F16;
        long qWidth = nHeads * headSize;
        long headsPerKv = nHeads / nKvHeads;
        long positions = pos0 + rows;
        // element distance between one position's row and the next one's, within a kv head
        long positionStep = order.offset(1, 0, nKvHeads, headSize, capacity);
        float scoreScale = (float) (1.0 / Math.sqrt(headSize));
        for (long r = 0; r < rows; r++) {
            long last = pos0 + r; // causal: row r sees positions 0..last
            for (long h = headFrom; h < headTo; h++) {
                long qAt = r * qWidth + h * headSize;
                long kvHeadAt = order.offset(0, h / headsPerKv, nKvHeads, headSize, capacity);
                long scores = h * positions;
                scoreHead(f16, q, qAt, kCache, kvHeadAt, positionStep, last, headSize, scoreScale, scratch, scores);
                softmaxRow(scratch, scratch, scores, scores + last + 1);
                // out_h = sum_t p_t * v_t; the first term overwrites whatever out held.
                long outAt = r * qWidth + h * headSize;
                if (f16) {
                    for (long i = 0; i < headSize; i++) out.setAtIndex(JAVA_FLOAT, outAt + i, 0f);
                    for (long t = 0; t <= last; t++) {
                        axpyF16(scratch.getAtIndex(JAVA_FLOAT, scores + t), vCache, (kvHeadAt + t * positionStep) * 2,
                                out, outAt, headSize);
                    }
                } else {
                    scale(vCache, kvHeadAt, out, outAt, headSize, scratch.getAtIndex(JAVA_FLOAT, scores));
                    for (long t = 1; t <= last; t++) {
                        axpy(scratch.getAtIndex(JAVA_FLOAT, scores + t), vCache, kvHeadAt + t * positionStep, out,
                                outAt, headSize);
                    }
                }
            }
        }
    }

    /**
     * One head's attention scores: {@code scratch[scores + t] = q·k_t * scoreScale} for positions t = 0..last,
     * with k_t at element {@code kvHeadAt + t * positionStep} of the cache (float32, or binary16 when {@code f16}).
     */
    protected void scoreHead(boolean f16, MemorySegment q, long qAt, MemorySegment kCache, long kvHeadAt,
                             long positionStep, long last, long headSize, float scoreScale, MemorySegment scratch,
                             long scores) {
        for (long t = 0; t <= last; t++) {
            long at = kvHeadAt + t * positionStep;
            float dot = f16 ? dotF16(kCache, at * 2, q, qAt, headSize) : dot(q, qAt, kCache, at, headSize);
            scratch.setAtIndex(JAVA_FLOAT, scores + t, dot * scoreScale);
        }
    }

    @Override
    public void matmul(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        if (parallel != null && parallel.matmul(w, x, y, rows, in, out)) return;
        matmulOutputs(w, x, y, rows, in, out, 0, out);
    }

    /** {@link #matmul} for the outputs (rows of W, columns of y) {@code [outFrom, outTo)} only. */
    void matmulOutputs(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out, long outFrom,
                       long outTo) {
        for (long r = 0; r < rows; r++) {
            for (long o = outFrom; o < outTo; o++) {
                y.setAtIndex(JAVA_FLOAT, r * out + o, dot(x, r * in, w, o * in, in));
            }
        }
    }

    @Override
    public void matmulTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        if (parallel != null && parallel.matmulTransposed(wt, x, y, rows, in, out)) return;
        matmulTransposedOutputs(wt, x, y, rows, in, out, 0, out);
    }

    /**
     * {@link #matmulTransposed} for the outputs (columns of Wᵀ and y) {@code [outFrom, outTo)} only:
     * {@code y[r] = Σ_i x[r, i] · Wᵀ[i]}, an axpy per row of Wᵀ. Each row of Wᵀ is used for every x row
     * while it is in cache, so Wᵀ is read from memory once per call.
     */
    void matmulTransposedOutputs(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out,
                                 long outFrom, long outTo) {
        long n = outTo - outFrom;
        for (long r = 0; r < rows; r++) { // the first term overwrites whatever y held
            scale(wt, outFrom, y, r * out + outFrom, n, x.getAtIndex(JAVA_FLOAT, r * in));
        }
        for (long i = 1; i < in; i++) {
            for (long r = 0; r < rows; r++) {
                axpy(x.getAtIndex(JAVA_FLOAT, r * in + i), wt, i * out + outFrom, y, r * out + outFrom, n);
            }
        }
    }

    @Override
    public void matmul(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in,
                       long out) {
        if (type == WeightType.F32) {
            matmul(w, x, y, rows, in, out);
            return;
        }
        if (parallel != null && parallel.typedMatmul(type, w, x, y, rows, in, out)) return;
        typedMatmulOutputs(type, w, x, y, rows, in, out, 0, out);
    }

    /**
     * The typed matmul for outputs (weight rows, columns of y) {@code [outFrom, outTo)} only. Each x row is
     * dotted with each weight row through the type's dot primitive; the weight row is dequantized on the fly.
     */
    void typedMatmulOutputs(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in,
                            long out, long outFrom, long outTo) {
        long rowBytes = type.rowBytes(in);
        for (long r = 0; r < rows; r++) {
            for (long o = outFrom; o < outTo; o++) {
                long wAt = o * rowBytes;
                float v = switch (type) {
                    case F32 -> dot(x, r * in, w, o * in, in);
                    case F16 -> dotF16(w, wAt, x, r * in, in);
                    case BF16 -> dotBf16(w, wAt, x, r * in, in);
                    case Q8_0 -> dotQ8_0(w, wAt, x, r * in, in);
                    case Q4_0 -> dotQ4_0(w, wAt, x, r * in, in);
                };
                y.setAtIndex(JAVA_FLOAT, r * out + o, v);
            }
        }
    }

    // ---- row building blocks shared by the ops ---------------------------------------------------

    /** RMSNorm of every row; {@code weightOffset} is 0 for plain RMSNorm and 1 for Gemma's (1 + w). */
    private void rmsnormRows(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps,
                             float weightOffset) {
        for (long r = 0; r < rows; r++) {
            rmsnormRow(x, w, y, r * d, d, eps, weightOffset);
        }
    }

    private void rmsnormRow(MemorySegment x, MemorySegment w, MemorySegment y, long row, long d, float eps,
                            float weightOffset) {
        double meanSquare = sumOfSquares(x, row, row + d) / d;
        float invRms = (float) (1.0 / Math.sqrt(meanSquare + eps));
        scaleByWeight(x, y, row, w, 0, d, invRms, weightOffset);
    }

    /** LayerNorm of the row at element {@code row}: two passes (mean, then centered variance). */
    private void layernormRow(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, long row, long d,
                              float eps) {
        double mean = sum(x, row, row + d) / d;
        double biasedVar = sumOfSquaredDeviations(x, row, row + d, mean) / d;
        normalize(x, y, row, w, b, 0, d, (float) mean, (float) (1.0 / Math.sqrt(biasedVar + eps)));
    }

    /** Softmax of elements {@code [from, to)} of x into the same elements of y (which may be x). */
    private void softmaxRow(MemorySegment x, MemorySegment y, long from, long to) {
        float max = max(x, from, to);
        double sum = expMinusMax(x, y, from, to, max);
        scale(y, from, y, from, to - from, (float) (1.0 / sum));
    }

    /** BatchNorm's per-feature transform of column j: y = (x - mean) * invStd * gamma + beta. */
    private static void normalizeColumn(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment y,
                                        long j, long rows, long d, float mean, float invStd) {
        float g = gamma == null ? 1f : gamma.getAtIndex(JAVA_FLOAT, j);
        float b = beta == null ? 0f : beta.getAtIndex(JAVA_FLOAT, j);
        for (long r = 0; r < rows; r++) {
            long at = r * d + j;
            y.setAtIndex(JAVA_FLOAT, at, (x.getAtIndex(JAVA_FLOAT, at) - mean) * invStd * g + b);
        }
    }

    // ---- primitives: one loop each, over float elements [from, to) -------------------------------
    // VectorKernels overrides these; its scalar tails call them back with the leftover range.

    /** Σ x[i]. */
    protected double sum(MemorySegment x, long from, long to) {
        double s = 0;
        for (long i = from; i < to; i++) s += x.getAtIndex(JAVA_FLOAT, i);
        return s;
    }

    /** Σ x[i]². */
    protected double sumOfSquares(MemorySegment x, long from, long to) {
        double s = 0;
        for (long i = from; i < to; i++) {
            double v = x.getAtIndex(JAVA_FLOAT, i);
            s += v * v;
        }
        return s;
    }

    /** Σ (x[i] - mean)². */
    protected double sumOfSquaredDeviations(MemorySegment x, long from, long to, double mean) {
        double s = 0;
        for (long i = from; i < to; i++) {
            double dev = x.getAtIndex(JAVA_FLOAT, i) - mean;
            s += dev * dev;
        }
        return s;
    }

    /** max x[i] (to &gt; from). */
    protected float max(MemorySegment x, long from, long to) {
        float m = Float.NEGATIVE_INFINITY;
        for (long i = from; i < to; i++) m = Math.max(m, x.getAtIndex(JAVA_FLOAT, i));
        return m;
    }

    /** y[i] = exp(x[i] - max); returns Σ y[i]. */
    protected double expMinusMax(MemorySegment x, MemorySegment y, long from, long to, float max) {
        double s = 0;
        for (long i = from; i < to; i++) {
            float e = (float) Math.exp(x.getAtIndex(JAVA_FLOAT, i) - max);
            y.setAtIndex(JAVA_FLOAT, i, e);
            s += e;
        }
        return s;
    }

    /** y[at + i] = x[at + i] * scale * (weightOffset + w[wAt + i]) for i in [0, n). */
    protected void scaleByWeight(MemorySegment x, MemorySegment y, long at, MemorySegment w, long wAt, long n,
                                 float scale, float weightOffset) {
        for (long i = 0; i < n; i++) {
            y.setAtIndex(JAVA_FLOAT, at + i,
                    x.getAtIndex(JAVA_FLOAT, at + i) * scale * (weightOffset + w.getAtIndex(JAVA_FLOAT, wAt + i)));
        }
    }

    /**
     * y[at + i] = (x[at + i] - mean) * invStd * w[wAt + i] + b[wAt + i] for i in [0, n);
     * a null w means 1, a null b means 0.
     */
    protected void normalize(MemorySegment x, MemorySegment y, long at, MemorySegment w, MemorySegment b, long wAt,
                             long n, float mean, float invStd) {
        for (long i = 0; i < n; i++) {
            float v = (x.getAtIndex(JAVA_FLOAT, at + i) - mean) * invStd;
            if (w != null) v *= w.getAtIndex(JAVA_FLOAT, wAt + i);
            if (b != null) v += b.getAtIndex(JAVA_FLOAT, wAt + i);
            y.setAtIndex(JAVA_FLOAT, at + i, v);
        }
    }

    /**
     * y[at + i] = (x[at + i] - mean[j]) / sqrt(var[j] + eps) * gamma[j] + beta[j] with j = featureAt + i,
     * for i in [0, n); a null gamma means 1, a null beta means 0.
     */
    protected void batchnormRow(MemorySegment x, MemorySegment y, long at, MemorySegment mean, MemorySegment var,
                                MemorySegment gamma, MemorySegment beta, long featureAt, long n, float eps) {
        for (long i = 0; i < n; i++) {
            long j = featureAt + i;
            float invStd = (float) (1.0 / Math.sqrt(var.getAtIndex(JAVA_FLOAT, j) + eps));
            float v = (x.getAtIndex(JAVA_FLOAT, at + i) - mean.getAtIndex(JAVA_FLOAT, j)) * invStd;
            if (gamma != null) v *= gamma.getAtIndex(JAVA_FLOAT, j);
            if (beta != null) v += beta.getAtIndex(JAVA_FLOAT, j);
            y.setAtIndex(JAVA_FLOAT, at + i, v);
        }
    }

    /** out[i] = alpha * x[i] + f[i] (alpha = 1 is the plain, exact add). */
    protected void scaledAdd(float alpha, MemorySegment x, MemorySegment f, MemorySegment out, long from, long to) {
        for (long i = from; i < to; i++) {
            out.setAtIndex(JAVA_FLOAT, i, alpha * x.getAtIndex(JAVA_FLOAT, i) + f.getAtIndex(JAVA_FLOAT, i));
        }
    }

    /** out[i] = silu(gate[i]) * up[i] with silu(g) = g / (1 + exp(-g)). */
    protected void siluMulRange(MemorySegment gate, MemorySegment up, MemorySegment out, long from, long to) {
        for (long i = from; i < to; i++) {
            float g = gate.getAtIndex(JAVA_FLOAT, i);
            out.setAtIndex(JAVA_FLOAT, i, g / (1f + (float) Math.exp(-g)) * up.getAtIndex(JAVA_FLOAT, i));
        }
    }

    /** y[yAt + i] = s * x[xAt + i] for i in [0, n). */
    protected void scale(MemorySegment x, long xAt, MemorySegment y, long yAt, long n, float s) {
        for (long i = 0; i < n; i++) {
            y.setAtIndex(JAVA_FLOAT, yAt + i, s * x.getAtIndex(JAVA_FLOAT, xAt + i));
        }
    }

    /** y[yAt + i] += a * x[xAt + i] for i in [0, n). */
    protected void axpy(float a, MemorySegment x, long xAt, MemorySegment y, long yAt, long n) {
        for (long i = 0; i < n; i++) {
            y.setAtIndex(JAVA_FLOAT, yAt + i, y.getAtIndex(JAVA_FLOAT, yAt + i) + a * x.getAtIndex(JAVA_FLOAT, xAt + i));
        }
    }

    /** y[yAt + i] += a * x[i] for i in [0, n), x an F16 row at byte {@code xAt} (an F16 KV cache's values). */
    protected void axpyF16(float a, MemorySegment x, long xAt, MemorySegment y, long yAt, long n) {
        for (long i = 0; i < n; i++) {
            float v = Float.float16ToFloat(x.get(JAVA_SHORT_UNALIGNED, xAt + 2 * i));
            y.setAtIndex(JAVA_FLOAT, yAt + i, y.getAtIndex(JAVA_FLOAT, yAt + i) + a * v);
        }
    }

    /** Σ a[aAt + i] * b[bAt + i] for i in [0, n), accumulated in double. */
    protected float dot(MemorySegment a, long aAt, MemorySegment b, long bAt, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            s += (double) a.getAtIndex(JAVA_FLOAT, aAt + i) * b.getAtIndex(JAVA_FLOAT, bAt + i);
        }
        return (float) s;
    }

    // ---- typed-weight dot primitives: one weight row (at byte wAt) . x[xAt, xAt + n) -----------------
    // Scalar: every product in double, as dot() above. VectorKernels overrides these.

    /** Σ w[j]·x[j] over an F16 row. */
    protected float dotF16(MemorySegment w, long wAt, MemorySegment x, long xAt, long n) {
        double s = 0;
        for (long j = 0; j < n; j++) {
            s += (double) Float.float16ToFloat(w.get(JAVA_SHORT_UNALIGNED, wAt + 2 * j)) * x.getAtIndex(JAVA_FLOAT, xAt + j);
        }
        return (float) s;
    }

    /** Σ w[j]·x[j] over a BF16 row. */
    protected float dotBf16(MemorySegment w, long wAt, MemorySegment x, long xAt, long n) {
        double s = 0;
        for (long j = 0; j < n; j++) {
            s += (double) Quantization.fromBf16(w.get(JAVA_SHORT_UNALIGNED, wAt + 2 * j))
                    * x.getAtIndex(JAVA_FLOAT, xAt + j);
        }
        return (float) s;
    }

    /** Σ w[j]·x[j] over a Q8_0 row of n/32 blocks: Σ_blocks d · Σ q[j]·x[j]. */
    protected float dotQ8_0(MemorySegment w, long wAt, MemorySegment x, long xAt, long n) {
        double s = 0;
        for (long b = 0; b < n / 32; b++) {
            long block = wAt + b * 34;
            double blockSum = 0;
            for (int j = 0; j < 32; j++) {
                blockSum += (double) w.get(JAVA_BYTE, block + 2 + j) * x.getAtIndex(JAVA_FLOAT, xAt + b * 32 + j);
            }
            s += Quantization.scale(w, block) * blockSum;
        }
        return (float) s;
    }

    /** Σ w[j]·x[j] over a Q4_0 row: low nibbles are elements 0..15 of a block, high nibbles 16..31. */
    protected float dotQ4_0(MemorySegment w, long wAt, MemorySegment x, long xAt, long n) {
        double s = 0;
        for (long b = 0; b < n / 32; b++) {
            long block = wAt + b * 18;
            long xb = xAt + b * 32;
            double blockSum = 0;
            for (int j = 0; j < 16; j++) {
                int packed = w.get(JAVA_BYTE, block + 2 + j) & 0xff;
                blockSum += (double) ((packed & 0x0f) - 8) * x.getAtIndex(JAVA_FLOAT, xb + j)
                        + (double) ((packed >>> 4) - 8) * x.getAtIndex(JAVA_FLOAT, xb + 16 + j);
            }
            s += Quantization.scale(w, block) * blockSum;
        }
        return (float) s;
    }
}
