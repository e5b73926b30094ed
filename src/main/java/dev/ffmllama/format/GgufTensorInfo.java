package dev.ffmllama.format;

/**
 * One entry of a GGUF tensor table.
 *
 * @param name     tensor name
 * @param type     element type
 * @param ne       dimensions as GGUF stores them, fastest-varying first
 * @param offset   byte offset from the start of the data section (a multiple of the alignment)
 * @param byteSize bytes the tensor occupies
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset, long byteSize) {
    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Row-major shape, slowest dimension first ({@code ne} reversed): what {@link dev.ffmllama.tensor.Tensor} uses. */
    public long[] shape() {
        long[] shape = new long[ne.length];
        for (int i = 0; i < ne.length; i++) shape[i] = ne[ne.length - 1 - i];
        return shape;
    }

    public long elementCount() {
        long n = 1;
        for (long d : ne) n *= d;
        return n;
    }
}
