package dev.ffmllama.kernels;

import java.lang.foreign.MemorySegment;

/** STUB: to be implemented. */
final class JavaKernels implements Kernels {
    @Override public Backend backend() { return Backend.JAVA; }
    @Override public void rmsnorm(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void rmsnormGemma(MemorySegment x, MemorySegment w, MemorySegment y, long rows, long d, float eps) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void layernorm(MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d, float eps) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void addRmsnorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment rOut, MemorySegment y, long rows, long d, float eps) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void addLayernorm(MemorySegment x, MemorySegment residual, MemorySegment w, MemorySegment b, MemorySegment rOut, MemorySegment y, long rows, long d, float eps) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void deepnorm(MemorySegment x, MemorySegment f, float alpha, MemorySegment w, MemorySegment b, MemorySegment y, long rows, long d, float eps) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void batchnormInfer(MemorySegment x, MemorySegment runningMean, MemorySegment runningVar, MemorySegment gamma, MemorySegment beta, MemorySegment y, long rows, long d, float eps) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void batchnormTrain(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runningMean, MemorySegment runningVar, MemorySegment y, long rows, long d, float eps, float momentum) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void softmax(MemorySegment x, MemorySegment y, long rows, long d) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void rope(MemorySegment x, long rows, long nHeads, long headSize, long pos0, float theta) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void siluMul(MemorySegment gate, MemorySegment up, MemorySegment out, long n) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void attention(MemorySegment q, MemorySegment kCache, MemorySegment vCache, MemorySegment out, MemorySegment scratch, long rows, long pos0, long nHeads, long nKvHeads, long headSize) { throw new UnsupportedOperationException("not implemented yet"); }
    @Override public void matmul(MemorySegment w, MemorySegment x, MemorySegment y, long rows, long in, long out) { throw new UnsupportedOperationException("not implemented yet"); }
}
