package dev.ffmllama.kernels;

import java.lang.foreign.MemorySegment;

/** STUB: validation to be implemented; delegates for now. */
final class CheckedKernels implements Kernels {
    private final Kernels raw;
    CheckedKernels(Kernels raw) { this.raw = raw; }
    @Override public Backend backend() { return raw.backend(); }
    @Override public void rmsnorm(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) { raw.rmsnorm(x, w, y, rows, d, eps); }
    @Override public void rmsnormGemma(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) { raw.rmsnormGemma(x, w, y, rows, d, eps); }
    @Override public void layernorm(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d, float eps) { raw.layernorm(x, w, b, y, rows, d, eps); }
    @Override public void addRmsnorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment rOut, MemorySegment y, long rows, long d, float eps) { raw.addRmsnorm(x, residual, w, rOut, y, rows, d, eps); }
    @Override public void addLayernorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment b, MemorySegment rOut, MemorySegment y, long rows, long d, float eps) { raw.addLayernorm(x, residual, w, b, rOut, y, rows, d, eps); }
    @Override public void deepnorm(MemorySegment x, MemorySegment f, float alpha, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d, float eps) { raw.deepnorm(x, f, alpha, w, b, y, rows, d, eps); }
    @Override public void batchnormInfer(MemorySegment x, MemorySegment runningMean, MemorySegment runningVar, MemorySegment gamma, MemorySegment beta, MemorySegment y, long rows, long d, float eps) { raw.batchnormInfer(x, runningMean, runningVar, gamma, beta, y, rows, d, eps); }
    @Override public void batchnormTrain(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runningMean, MemorySegment runningVar, MemorySegment y, long rows, long d, float eps, float momentum) { raw.batchnormTrain(x, gamma, beta, runningMean, runningVar, y, rows, d, eps, momentum); }
    @Override public void softmax(MemorySegment x, MemorySegment y, long rows, long d) { raw.softmax(x, y, rows, d); }
    @Override public void rope(MemorySegment x, long rows, long nHeads, long headSize, long pos0, float theta) { raw.rope(x, rows, nHeads, headSize, pos0, theta); }
    @Override public void siluMul(MemorySegment gate, MemorySegment up, MemorySegment out, long n) { raw.siluMul(gate, up, out, n); }
    @Override public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) { raw.add(a, b, out, n); }
    @Override public void attention(MemorySegment q, MemorySegment kCache, MemorySegment vCache, MemorySegment out, MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads, long headSize) { raw.attention(q, kCache, vCache, out, scratch, rows, pos0, nHeads, nKvHeads, headSize); }
    @Override public void matmul(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out) { raw.matmul(w, x, y, rows, in, out); }
}
