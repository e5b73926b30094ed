package dev.ffmllama.kernels;

import dev.ffmllama.tensor.Tensor;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.MemorySegment;

/**
 * The compute contract every backend implements: normalizations, the decoder's elementwise ops,
 * attention and the linear layer. Semantics are those of {@code native/include/ffmllama.h}, which
 * documents each op; all three backends ({@link Backend#NATIVE}, {@link Backend#VECTOR},
 * {@link Backend#JAVA}) must agree with it to float32 rounding.
 *
 * <p>Two levels:
 * <ul>
 *   <li>the segment methods take float32 {@link MemorySegment}s (row-major, contiguous) and explicit
 *       sizes. They are what the forward pass calls: nothing is allocated. Instances obtained from
 *       {@link Backend#kernels()} validate every argument (sizes against segment lengths, liveness,
 *       scalars) before any native call, and throw {@link IllegalArgumentException} or
 *       {@link IllegalStateException} naming the problem;</li>
 *   <li>the {@link Tensor} overloads check shapes and dtypes and then call the segment methods.</li>
 * </ul>
 * Optional operands ({@code w}, {@code b}, {@code gamma}, {@code beta}) may be {@code null}.
 */
public interface Kernels {

    /** The backend these kernels belong to. */
    Backend backend();

    // ---- normalization (segment level) --------------------------------------------------------

    void rmsnorm(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps);

    void rmsnormGemma(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps);

    void layernorm(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d, float eps);

    void addRmsnorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment rOut, MemorySegment y,
                    long rows, long d, float eps);

    void addLayernorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment b, MemorySegment rOut,
                      MemorySegment y, long rows, long d, float eps);

    void deepnorm(MemorySegment x, MemorySegment f, float alpha, MemorySegment w, MemorySegment b, MemorySegment y,
                  long rows, long d, float eps);

    void batchnormInfer(MemorySegment x, MemorySegment runningMean, MemorySegment runningVar, MemorySegment gamma,
                        MemorySegment beta, MemorySegment y, long rows, long d, float eps);

    void batchnormTrain(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runningMean,
                        MemorySegment runningVar, MemorySegment y, long rows, long d, float eps, float momentum);

    // ---- elementwise and attention (segment level) ---------------------------------------------

    void softmax(MemorySegment x, MemorySegment y, long rows, long d);

    void rope(MemorySegment x, long rows, long nHeads, long headSize, long pos0, float theta);

    void siluMul(MemorySegment gate, MemorySegment up, MemorySegment out, long n);

    void add(MemorySegment a, MemorySegment b, MemorySegment out, long n);

    void attention(MemorySegment q, MemorySegment kCache, MemorySegment vCache, MemorySegment out,
                   MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads, long headSize);

    /**
     * {@link #attention(MemorySegment, MemorySegment, MemorySegment, MemorySegment, MemorySegment, long, long, long,
     * long, long) attention} over a KV cache in another layout ({@code ffm_attention_kv}): the caches were allocated
     * for {@code capacity >= pos0 + rows} positions in {@code order}, with {@link WeightType#F32} or
     * {@link WeightType#F16} elements (F16 values are widened exactly, so the result is the float32 attention over
     * the rounded cache). Token-major F32 is the plain attention.
     */
    default void attention(KvOrder order, WeightType kvType, MemorySegment q, MemorySegment kCache,
                           MemorySegment vCache, MemorySegment out, MemorySegment scratch, long rows, long pos0,
                           long nHeads, long nKvHeads, long headSize, long capacity) {
        if (order == KvOrder.TOKEN_MAJOR && kvType == WeightType.F32) {
            attention(q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize);
            return;
        }
        throw new UnsupportedOperationException(backend() + " kernels do not implement a " + order + " " + kvType
                + " KV cache");
    }

    /**
     * Linear layer: {@code y[rows, out] = x[rows, in] · Wᵀ} with {@code W} stored row-major as
     * {@code [out, in]} (PyTorch / GGUF layout). The native backend calls OpenBLAS
     * ({@code sgemv} for one row, {@code sgemm} for several).
     */
    void matmul(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out);

    /**
     * Linear layer on a transposed weight: {@code y[rows, out] = x[rows, in] · W} with {@code wt} holding
     * {@code Wᵀ} row-major as {@code [in, out]} (the {@code matrix=transposed} layout). Same result as
     * {@link #matmul(MemorySegment, MemorySegment, MemorySegment, long, long, long)} on {@code W}, up to float32
     * summation order. Native: {@code cblas_sgemv} with {@code CblasTrans} / {@code sgemm} without transposes;
     * Java: an axpy loop over the rows of {@code Wᵀ}.
     */
    default void matmulTransposed(MemorySegment wt, MemorySegment x, MemorySegment y, long rows, long in, long out) {
        throw new UnsupportedOperationException(backend() + " kernels do not implement a transposed matmul");
    }

    /**
     * Linear layer on typed weights: {@code y[rows, out] = x[rows, in] · Wᵀ} where {@code W [out, in]} is stored
     * in {@code type}'s layout ({@code type.byteSize(out, in)} bytes, any alignment; {@code in} a multiple of 32
     * for the block-quantized types). x and y are float32; every weight is dequantized exactly and the products
     * are summed in float32, so the result is the float32 matmul over the dequantized weights (not llama.cpp's
     * quantized-activation scheme). {@link WeightType#F32} is {@link #matmul(MemorySegment, MemorySegment,
     * MemorySegment, long, long, long)}. The native backend runs its own C kernels for the other types (not
     * OpenBLAS).
     */
    default void matmul(WeightType type, MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in,
                        long out) {
        if (type == WeightType.F32) {
            matmul(w, x, y, rows, in, out);
            return;
        }
        throw new UnsupportedOperationException(backend() + " kernels do not implement " + type + " weights");
    }

    // ---- tensor level: shape-checked conveniences ----------------------------------------------

    default void rmsnorm(Tensor x, Tensor w, Tensor y, float eps) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireVector("weight", w, d);
        rmsnorm(x.segment(), w.segment(), y.segment(), x.rows(), d, eps);
    }

    default void rmsnormGemma(Tensor x, Tensor w, Tensor y, float eps) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireVector("weight", w, d);
        rmsnormGemma(x.segment(), w.segment(), y.segment(), x.rows(), d, eps);
    }

    default void layernorm(Tensor x, Tensor w, Tensor b, Tensor y, float eps) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireOptionalVector("weight", w, d);
        Shapes.requireOptionalVector("bias", b, d);
        layernorm(x.segment(), Shapes.segmentOrNull(w), Shapes.segmentOrNull(b), y.segment(), x.rows(), d, eps);
    }

    default void addRmsnorm(Tensor x, Tensor residual, Tensor w, Tensor rOut, Tensor y, float eps) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("residual", residual, "x", x);
        Shapes.requireSameShape("r", rOut, "x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireVector("weight", w, d);
        addRmsnorm(x.segment(), residual.segment(), w.segment(), rOut.segment(), y.segment(), x.rows(), d, eps);
    }

    default void addLayernorm(Tensor x, Tensor residual, Tensor w, Tensor b, Tensor rOut, Tensor y, float eps) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("residual", residual, "x", x);
        Shapes.requireSameShape("r", rOut, "x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireOptionalVector("weight", w, d);
        Shapes.requireOptionalVector("bias", b, d);
        addLayernorm(x.segment(), residual.segment(), Shapes.segmentOrNull(w), Shapes.segmentOrNull(b),
                rOut.segment(), y.segment(), x.rows(), d, eps);
    }

    default void deepnorm(Tensor x, Tensor f, float alpha, Tensor w, Tensor b, Tensor y, float eps) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("f", f, "x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireOptionalVector("weight", w, d);
        Shapes.requireOptionalVector("bias", b, d);
        deepnorm(x.segment(), f.segment(), alpha, Shapes.segmentOrNull(w), Shapes.segmentOrNull(b), y.segment(),
                x.rows(), d, eps);
    }

    default void batchnormInfer(Tensor x, Tensor runningMean, Tensor runningVar, Tensor gamma, Tensor beta, Tensor y,
                                float eps) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireVector("running_mean", runningMean, d);
        Shapes.requireVector("running_var", runningVar, d);
        Shapes.requireOptionalVector("weight (gamma)", gamma, d);
        Shapes.requireOptionalVector("bias (beta)", beta, d);
        batchnormInfer(x.segment(), runningMean.segment(), runningVar.segment(), Shapes.segmentOrNull(gamma),
                Shapes.segmentOrNull(beta), y.segment(), x.rows(), d, eps);
    }

    default void batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y,
                                float eps, float momentum) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("y", y, "x", x);
        Shapes.requireVector("running_mean", runningMean, d);
        Shapes.requireVector("running_var", runningVar, d);
        Shapes.requireOptionalVector("weight (gamma)", gamma, d);
        Shapes.requireOptionalVector("bias (beta)", beta, d);
        batchnormTrain(x.segment(), Shapes.segmentOrNull(gamma), Shapes.segmentOrNull(beta), runningMean.segment(),
                runningVar.segment(), y.segment(), x.rows(), d, eps, momentum);
    }

    default void softmax(Tensor x, Tensor y) {
        long d = Shapes.rowLength("x", x);
        Shapes.requireSameShape("y", y, "x", x);
        softmax(x.segment(), y.segment(), x.rows(), d);
    }

    default void siluMul(Tensor gate, Tensor up, Tensor out) {
        Shapes.rowLength("gate", gate);
        Shapes.requireSameShape("up", up, "gate", gate);
        Shapes.requireSameShape("out", out, "gate", gate);
        siluMul(gate.segment(), up.segment(), out.segment(), gate.elementCount());
    }

    default void add(Tensor a, Tensor b, Tensor out) {
        Shapes.rowLength("a", a);
        Shapes.requireSameShape("b", b, "a", a);
        Shapes.requireSameShape("out", out, "a", a);
        add(a.segment(), b.segment(), out.segment(), a.elementCount());
    }

    /** RoPE in place on {@code x [rows, nHeads * headSize]}, row r at position {@code pos0 + r}. */
    default void rope(Tensor x, long nHeads, long pos0, float theta) {
        long width = Shapes.rowLength("x", x);
        if (nHeads <= 0 || width % nHeads != 0) {
            throw new IllegalArgumentException("row length " + width + " is not a multiple of n_heads " + nHeads);
        }
        rope(x.segment(), x.rows(), nHeads, width / nHeads, pos0, theta);
    }

    /** {@code y = x · Wᵀ} for {@code w [out, in]}, {@code x [rows, in]}, {@code y [rows, out]}. */
    default void matmul(Tensor w, Tensor x, Tensor y) {
        long in = Shapes.rowLength("x", x);
        Shapes.requireMatrix("weight", w, -1, in);
        long out = w.dim(0);
        Shapes.requireMatrix("y", y, x.rows(), out);
        matmul(w.segment(), x.segment(), y.segment(), x.rows(), in, out);
    }
}
