package dev.ffmllama.kernels;

import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on the Java Vector API ({@code jdk.incubator.vector}).
 *
 * <p>The ops (row loops and how each normalization is composed) are inherited from {@link JavaKernels};
 * this class only replaces its primitives — the innermost loops — with SIMD loops over
 * {@link FloatVector#SPECIES_PREFERRED}. Each loop covers the largest multiple of the vector length and
 * hands the remaining elements to the scalar primitive it overrides, so any length works.
 *
 * <p>Sums that feed a normalization (Σx, Σx², Σ(x-mean)²) are accumulated in double lanes: floats are
 * loaded at half the preferred width and widened, so rows with |x| ~ 1e20 need no special case. Measured
 * against float lanes with a fall-back double pass on overflow (rmsnorm, rows=64, d=4096, 4 accumulators
 * each): 32 ± 11 us vs 29 ± 4 us, the same within noise, so the always-correct double lanes stay.
 * Dot products (matmul, attention scores) accumulate in float with several independent accumulators,
 * as BLAS does. Species are static finals and loops stay simple so C2 scalar-replaces every vector:
 * nothing is allocated per call.
 */
final class VectorKernels extends JavaKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Double lanes for reductions, and the float species that widens into exactly one of them. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F_HALF =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    /** Typed weights: as many bytes / shorts / ints as F has float lanes, so one load widens into one F. */
    private static final VectorSpecies<Byte> WEIGHT_BYTES =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.length() * Byte.SIZE)));
    private static final VectorSpecies<Short> WEIGHT_SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, F.length() * Short.SIZE)));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** The typed-weight loops need 8 or 16 float lanes (a block of 32 is whole vectors, bytes load as >= 64 bits). */
    private static final boolean TYPED_LANES_OK = F.length() == 8 || F.length() == 16;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final long FLOAT_BYTES = Float.BYTES;

    VectorKernels() {
        this(null);
    }

    /** @param pool threads to split matmul and attention over (see {@link JavaKernels#JavaKernels(WorkerPool)}) */
    VectorKernels(WorkerPool pool) {
        super(pool);
    }

    @Override
    public Backend backend() {
        return Backend.VECTOR;
    }

    // Loads and stores are written out at each use (FloatVector.fromMemorySegment / intoMemorySegment)
    // rather than through small private helpers: C2 compiles such a helper on its own first, then
    // refuses to inline it into later callers ("already compiled into a medium method"), and every
    // vector crossing that call is boxed on the heap (measured: 122 KB allocated per decoded token).

    // ---- reductions ------------------------------------------------------------------------------

    // Four independent accumulators per reduction: one would make each row wait on the add/FMA latency
    // (measured: rmsnorm rows=64 d=4096 went from ~50 to ~30 us).

    @Override
    protected double sum(MemorySegment x, long from, long to) {
        int step = 4 * D.length();
        long end = from + (to - from) / step * step;
        DoubleVector acc0 = DoubleVector.zero(D);
        DoubleVector acc1 = DoubleVector.zero(D);
        DoubleVector acc2 = DoubleVector.zero(D);
        DoubleVector acc3 = DoubleVector.zero(D);
        for (long i = from; i < end; i += step) {
            acc0 = acc0.add(((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)));
            acc1 = acc1.add(((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i + D.length()) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)));
            acc2 = acc2.add(((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i + 2L * D.length()) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)));
            acc3 = acc3.add(((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i + 3L * D.length()) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)));
        }
        return acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD) + super.sum(x, end, to);
    }

    /** Σx² is Σ(x - 0)²: one loop serves both (the extra subtraction is free next to the loads). */
    @Override
    protected double sumOfSquares(MemorySegment x, long from, long to) {
        return sumOfSquaredDeviations(x, from, to, 0.0);
    }

    @Override
    protected double sumOfSquaredDeviations(MemorySegment x, long from, long to, double mean) {
        int step = 4 * D.length();
        long end = from + (to - from) / step * step;
        DoubleVector acc0 = DoubleVector.zero(D);
        DoubleVector acc1 = DoubleVector.zero(D);
        DoubleVector acc2 = DoubleVector.zero(D);
        DoubleVector acc3 = DoubleVector.zero(D);
        for (long i = from; i < end; i += step) {
            DoubleVector dev0 = ((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)).sub(mean);
            DoubleVector dev1 = ((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i + D.length()) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)).sub(mean);
            DoubleVector dev2 = ((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i + 2L * D.length()) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)).sub(mean);
            DoubleVector dev3 = ((DoubleVector) FloatVector.fromMemorySegment(F_HALF, x, (i + 3L * D.length()) * FLOAT_BYTES, ORDER).convertShape(VectorOperators.F2D, D, 0)).sub(mean);
            acc0 = dev0.fma(dev0, acc0);
            acc1 = dev1.fma(dev1, acc1);
            acc2 = dev2.fma(dev2, acc2);
            acc3 = dev3.fma(dev3, acc3);
        }
        return acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD)
                + super.sumOfSquaredDeviations(x, end, to, mean);
    }

    @Override
    protected float max(MemorySegment x, long from, long to) {
        long end = from + F.loopBound(to - from);
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (long i = from; i < end; i += F.length()) {
            acc = acc.max(FloatVector.fromMemorySegment(F, x, (i) * FLOAT_BYTES, ORDER));
        }
        return Math.max(acc.reduceLanes(VectorOperators.MAX), super.max(x, end, to));
    }

    @Override
    protected double expMinusMax(MemorySegment x, MemorySegment y, long from, long to, float max) {
        long end = from + F.loopBound(to - from);
        FloatVector acc = FloatVector.zero(F); // terms are in (0, 1]: float lanes cannot overflow
        for (long i = from; i < end; i += F.length()) {
            FloatVector e = FloatVector.fromMemorySegment(F, x, (i) * FLOAT_BYTES, ORDER).sub(max).lanewise(VectorOperators.EXP);
            e.intoMemorySegment(y, (i) * FLOAT_BYTES, ORDER);
            acc = acc.add(e);
        }
        return acc.reduceLanes(VectorOperators.ADD) + super.expMinusMax(x, y, end, to, max);
    }

    @Override
    protected float dot(MemorySegment a, long aAt, MemorySegment b, long bAt, long n) {
        // Four independent accumulators hide the FMA latency.
        int step = 4 * F.length();
        long end = n - n % step;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        for (long i = 0; i < end; i += step) {
            acc0 = FloatVector.fromMemorySegment(F, a, (aAt + i) * FLOAT_BYTES, ORDER).fma(FloatVector.fromMemorySegment(F, b, (bAt + i) * FLOAT_BYTES, ORDER), acc0);
            acc1 = FloatVector.fromMemorySegment(F, a, (aAt + i + F.length()) * FLOAT_BYTES, ORDER).fma(FloatVector.fromMemorySegment(F, b, (bAt + i + F.length()) * FLOAT_BYTES, ORDER), acc1);
            acc2 = FloatVector.fromMemorySegment(F, a, (aAt + i + 2L * F.length()) * FLOAT_BYTES, ORDER).fma(FloatVector.fromMemorySegment(F, b, (bAt + i + 2L * F.length()) * FLOAT_BYTES, ORDER), acc2);
            acc3 = FloatVector.fromMemorySegment(F, a, (aAt + i + 3L * F.length()) * FLOAT_BYTES, ORDER).fma(FloatVector.fromMemorySegment(F, b, (bAt + i + 3L * F.length()) * FLOAT_BYTES, ORDER), acc3);
        }
        long single = F.loopBound(n);
        for (long i = end; i < single; i += F.length()) {
            acc0 = FloatVector.fromMemorySegment(F, a, (aAt + i) * FLOAT_BYTES, ORDER).fma(FloatVector.fromMemorySegment(F, b, (bAt + i) * FLOAT_BYTES, ORDER), acc0);
        }
        float vectorPart = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        return vectorPart + super.dot(a, aAt + single, b, bAt + single, n - single);
    }

    // ---- matmul -------------------------------------------------------------------------------------
    // Written for streaming speed. Measured on stories110M-shaped matrices in a standalone loop (one
    // thread, weights in the file mapping): the generic dot() over two native segments with long offsets
    // streams the weights at ~13 GB/s; reading x from a float[] and indexing the weights with int
    // arithmetic inside one loop over the rows (as llama2.java does) streams at ~31 GB/s. C2 compiles the
    // int-indexed form far better. So each x row is copied once per call into a per-thread float[], and a
    // matrix with fewer than 2^31 elements takes the int loop.

    private static final ThreadLocal<float[][]> X_ROW = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /** A heap copy of {@code x[row]} ({@code n} floats) in this thread's scratch array (grown, never shrunk). */
    private static float[] heapRow(MemorySegment x, long row, int n) {
        return heapCopy(x, row * n, n);
    }

    /** A heap copy of the {@code n} floats of {@code x} from float index {@code at}, as {@link #heapRow}. */
    private static float[] heapCopy(MemorySegment x, long at, int n) {
        float[][] holder = X_ROW.get();
        if (holder[0].length < n) holder[0] = new float[n];
        MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, at * FLOAT_BYTES, holder[0], 0, n);
        return holder[0];
    }

    /** Whether every element index of a {@code [out, in]} matrix fits an int (the fast loops below). */
    private static boolean intIndexed(long in, long out) {
        return in * out < Integer.MAX_VALUE;
    }

    @Override
    void matmulOutputs(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out, long outFrom,
                       long outTo) {
        if (!intIndexed(in, out)) {
            super.matmulOutputs(w, x, y, rows, in, out, outFrom, outTo);
            return;
        }
        int n = (int) in;
        int width = F.length();
        int end = n - n % (4 * width);
        int oFrom = (int) outFrom, oTo = (int) outTo;
        for (long r = 0; r < rows; r++) {
            float[] xr = heapRow(x, r, n);
            long yAt = r * out;
            for (int o = oFrom; o < oTo; o++) {
                int wAt = o * n;
                FloatVector acc0 = FloatVector.zero(F);
                FloatVector acc1 = FloatVector.zero(F);
                FloatVector acc2 = FloatVector.zero(F);
                FloatVector acc3 = FloatVector.zero(F);
                for (int j = 0; j < end; j += 4 * width) {
                    acc0 = FloatVector.fromMemorySegment(F, w, (wAt + j) * FLOAT_BYTES, ORDER).fma(FloatVector.fromArray(F, xr, j), acc0);
                    acc1 = FloatVector.fromMemorySegment(F, w, (wAt + j + width) * FLOAT_BYTES, ORDER).fma(FloatVector.fromArray(F, xr, j + width), acc1);
                    acc2 = FloatVector.fromMemorySegment(F, w, (wAt + j + 2 * width) * FLOAT_BYTES, ORDER).fma(FloatVector.fromArray(F, xr, j + 2 * width), acc2);
                    acc3 = FloatVector.fromMemorySegment(F, w, (wAt + j + 3 * width) * FLOAT_BYTES, ORDER).fma(FloatVector.fromArray(F, xr, j + 3 * width), acc3);
                }
                float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
                for (int j = end; j < n; j++) sum += xr[j] * w.getAtIndex(ValueLayout.JAVA_FLOAT, wAt + j);
                y.setAtIndex(ValueLayout.JAVA_FLOAT, yAt + o, sum);
            }
        }
    }

    // ---- element-wise maps -----------------------------------------------------------------------

    @Override
    protected void scaleByWeight(MemorySegment x, MemorySegment y, long at, MemorySegment w, long wAt, long n,
                                 float scale, float weightOffset) {
        long end = F.loopBound(n);
        for (long i = 0; i < end; i += F.length()) {
            FloatVector weight = FloatVector.fromMemorySegment(F, w, (wAt + i) * FLOAT_BYTES, ORDER).add(weightOffset);
            FloatVector.fromMemorySegment(F, x, (at + i) * FLOAT_BYTES, ORDER).mul(scale).mul(weight).intoMemorySegment(y, (at + i) * FLOAT_BYTES, ORDER);
        }
        super.scaleByWeight(x, y, at + end, w, wAt + end, n - end, scale, weightOffset);
    }

    @Override
    protected void normalize(MemorySegment x, MemorySegment y, long at, MemorySegment w, MemorySegment b, long wAt,
                             long n, float mean, float invStd) {
        long end = F.loopBound(n);
        for (long i = 0; i < end; i += F.length()) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, (at + i) * FLOAT_BYTES, ORDER).sub(mean).mul(invStd);
            if (w != null) v = v.mul(FloatVector.fromMemorySegment(F, w, (wAt + i) * FLOAT_BYTES, ORDER)); // loop-invariant tests: C2 unswitches the loop
            if (b != null) v = v.add(FloatVector.fromMemorySegment(F, b, (wAt + i) * FLOAT_BYTES, ORDER));
            v.intoMemorySegment(y, (at + i) * FLOAT_BYTES, ORDER);
        }
        super.normalize(x, y, at + end, w, b, wAt + end, n - end, mean, invStd);
    }

    @Override
    protected void batchnormRow(MemorySegment x, MemorySegment y, long at, MemorySegment mean, MemorySegment var,
                                MemorySegment gamma, MemorySegment beta, long featureAt, long n, float eps) {
        long end = F.loopBound(n);
        for (long i = 0; i < end; i += F.length()) {
            long j = featureAt + i;
            FloatVector v = FloatVector.fromMemorySegment(F, x, (at + i) * FLOAT_BYTES, ORDER).sub(FloatVector.fromMemorySegment(F, mean, (j) * FLOAT_BYTES, ORDER)).div(FloatVector.fromMemorySegment(F, var, (j) * FLOAT_BYTES, ORDER).add(eps).sqrt());
            if (gamma != null) v = v.mul(FloatVector.fromMemorySegment(F, gamma, (j) * FLOAT_BYTES, ORDER));
            if (beta != null) v = v.add(FloatVector.fromMemorySegment(F, beta, (j) * FLOAT_BYTES, ORDER));
            v.intoMemorySegment(y, (at + i) * FLOAT_BYTES, ORDER);
        }
        super.batchnormRow(x, y, at + end, mean, var, gamma, beta, featureAt + end, n - end, eps);
    }

    @Override
    protected void scaledAdd(float alpha, MemorySegment x, MemorySegment f, MemorySegment out, long from, long to) {
        long end = from + F.loopBound(to - from);
        for (long i = from; i < end; i += F.length()) {
            FloatVector.fromMemorySegment(F, x, (i) * FLOAT_BYTES, ORDER).mul(alpha).add(FloatVector.fromMemorySegment(F, f, (i) * FLOAT_BYTES, ORDER)).intoMemorySegment(out, (i) * FLOAT_BYTES, ORDER);
        }
        super.scaledAdd(alpha, x, f, out, end, to);
    }

    @Override
    protected void siluMulRange(MemorySegment gate, MemorySegment up, MemorySegment out, long from, long to) {
        long end = from + F.loopBound(to - from);
        for (long i = from; i < end; i += F.length()) {
            FloatVector g = FloatVector.fromMemorySegment(F, gate, (i) * FLOAT_BYTES, ORDER);
            FloatVector silu = g.div(g.neg().lanewise(VectorOperators.EXP).add(1f));
            silu.mul(FloatVector.fromMemorySegment(F, up, (i) * FLOAT_BYTES, ORDER)).intoMemorySegment(out, (i) * FLOAT_BYTES, ORDER);
        }
        super.siluMulRange(gate, up, out, end, to);
    }

    @Override
    protected void scale(MemorySegment x, long xAt, MemorySegment y, long yAt, long n, float s) {
        long end = F.loopBound(n);
        for (long i = 0; i < end; i += F.length()) {
            FloatVector.fromMemorySegment(F, x, (xAt + i) * FLOAT_BYTES, ORDER).mul(s).intoMemorySegment(y, (yAt + i) * FLOAT_BYTES, ORDER);
        }
        super.scale(x, xAt + end, y, yAt + end, n - end, s);
    }

    @Override
    protected void axpy(float a, MemorySegment x, long xAt, MemorySegment y, long yAt, long n) {
        long end = F.loopBound(n);
        for (long i = 0; i < end; i += F.length()) {
            FloatVector.fromMemorySegment(F, y, (yAt + i) * FLOAT_BYTES, ORDER).add(FloatVector.fromMemorySegment(F, x, (xAt + i) * FLOAT_BYTES, ORDER).mul(a)).intoMemorySegment(y, (yAt + i) * FLOAT_BYTES, ORDER);
        }
        super.axpy(a, x, xAt + end, y, yAt + end, n - end);
    }

    // ---- typed-weight matmul: dequantize on the fly, float32 lanes ------------------------------------
    // Same shape as the F32 matmul above: x on the heap, int byte offsets into the weights (a matrix under
    // 2 GiB). Per block of 32: the products q·x are summed in one vector, which is then scaled by d into the
    // row's accumulator (one FMA per block). Quantized values convert exactly to float (|q| <= 127).

    @Override
    void typedMatmulOutputs(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in,
                            long out, long outFrom, long outTo) {
        if (!TYPED_LANES_OK || type == WeightType.F32 || w.byteSize() > Integer.MAX_VALUE) {
            super.typedMatmulOutputs(type, w, x, y, rows, in, out, outFrom, outTo);
            return;
        }
        int n = (int) in;
        int rowBytes = (int) type.rowBytes(in);
        for (long r = 0; r < rows; r++) {
            float[] xr = heapRow(x, r, n);
            for (int o = (int) outFrom; o < outTo; o++) {
                int wAt = o * rowBytes;
                float v = switch (type) {
                    case Q8_0 -> dotQ8_0(w, wAt, xr, n);
                    case Q4_0 -> dotQ4_0(w, wAt, xr, n);
                    case F16 -> dotF16(w, wAt, xr, n);
                    case BF16 -> dotBf16(w, wAt, xr, n);
                    case F32 -> throw new AssertionError("F32 takes matmulOutputs");
                };
                y.setAtIndex(ValueLayout.JAVA_FLOAT, r * out + o, v);
            }
        }
    }

    private static float dotQ8_0(MemorySegment w, int wAt, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int block = wAt + b * 34;
            FloatVector blockSum = FloatVector.zero(F);
            for (int c = 0; c < 32; c += F.length()) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(WEIGHT_BYTES, w, block + 2 + c, ORDER)
                        .convertShape(VectorOperators.B2F, F, 0);
                blockSum = q.fma(FloatVector.fromArray(F, x, b * 32 + c), blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, Quantization.scale(w, block)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotQ4_0(MemorySegment w, int wAt, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            int block = wAt + b * 18;
            FloatVector blockSum = FloatVector.zero(F);
            // bytes c.. hold elements c.. (low nibbles) and 16 + c.. (high nibbles)
            for (int c = 0; c < 16; c += F.length()) {
                ByteVector packed = ByteVector.fromMemorySegment(WEIGHT_BYTES, w, block + 2 + c, ORDER);
                FloatVector lo = (FloatVector) packed.and((byte) 0x0f).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi = (FloatVector) packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, F, 0);
                blockSum = lo.fma(FloatVector.fromArray(F, x, b * 32 + c), blockSum);
                blockSum = hi.fma(FloatVector.fromArray(F, x, b * 32 + 16 + c), blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, Quantization.scale(w, block)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * F16 weights, x on the heap. The lanes are decoded with integer ops: the 15 bits below the sign, shifted
     * into a float's exponent and mantissa and multiplied by 2^112, give every finite half exactly (subnormals
     * included); exponent 31 (inf / NaN) is blended in separately, then the sign is OR-ed back.
     */
    private static float dotF16(MemorySegment w, int wAt, float[] x, int n) {
        int end = F.loopBound(n);
        FloatVector acc0 = FloatVector.zero(F);
        for (int j = 0; j < end; j += F.length()) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(WEIGHT_SHORTS, w, wAt + 2 * j, ORDER)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector magnitude = h.and(0x7fff);
            IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
            FloatVector finite = shifted.reinterpretAsFloats().mul(0x1p112f);
            VectorMask<Float> special = magnitude.compare(VectorOperators.GE, 0x7c00).cast(F);
            FloatVector value = finite.blend(shifted.or(0x7f800000).reinterpretAsFloats(), special);
            FloatVector signed = value.reinterpretAsInts().or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16))
                    .reinterpretAsFloats();
            acc0 = signed.fma(FloatVector.fromArray(F, x, j), acc0);
        }
        float sum = acc0.reduceLanes(VectorOperators.ADD);
        for (int j = end; j < n; j++) {
            sum += Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, wAt + 2L * j)) * x[j];
        }
        return sum;
    }

    private static float dotBf16(MemorySegment w, int wAt, float[] x, int n) {
        int end = F.loopBound(n);
        FloatVector acc0 = FloatVector.zero(F);
        for (int j = 0; j < end; j += F.length()) {
            FloatVector v = ((IntVector) ShortVector.fromMemorySegment(WEIGHT_SHORTS, w, wAt + 2 * j, ORDER)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = v.fma(FloatVector.fromArray(F, x, j), acc0);
        }
        float sum = acc0.reduceLanes(VectorOperators.ADD);
        for (int j = end; j < n; j++) {
            sum += Quantization.fromBf16(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, wAt + 2L * j)) * x[j];
        }
        return sum;
    }

    /** Over an F16 KV cache the query head is copied to the heap once, then the heap-x F16 dot above runs. */
    @Override
    protected void scoreHead(boolean f16, MemorySegment q, long qAt, MemorySegment kCache, long kvHeadAt,
                             long positionStep, long last, long headSize, float scoreScale, MemorySegment scratch,
                             long scores) {
        if (!f16 || !TYPED_LANES_OK || kCache.byteSize() > Integer.MAX_VALUE) {
            super.scoreHead(f16, q, qAt, kCache, kvHeadAt, positionStep, last, headSize, scoreScale, scratch, scores);
            return;
        }
        int n = (int) headSize;
        float[] qh = heapCopy(q, qAt, n);
        for (long t = 0; t <= last; t++) {
            int at = (int) (kvHeadAt + t * positionStep);
            scratch.setAtIndex(ValueLayout.JAVA_FLOAT, scores + t, dotF16(kCache, 2 * at, qh, n) * scoreScale);
        }
    }
}
