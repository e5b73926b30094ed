package dev.ffmllama.engine;

import dev.ffmllama.format.ModelFormatException;
import dev.ffmllama.format.TypedTensor;
import dev.ffmllama.kernels.Quantization;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Converts a weight matrix to another storage type at load time ({@code --weights q8_0} etc.), into
 * off-heap memory of the model's weights: for experimenting with one model in several types. Goes
 * through float32, so any supported type converts to any other; quantization rounds as ggml's
 * reference quantizers do.
 */
final class WeightConversion {
    private WeightConversion() {
    }

    static TypedTensor convert(String name, TypedTensor t, WeightType target, OffHeapMemory memory) {
        if (t.type() == target) return t;
        long rows = t.rows(), cols = t.cols();
        if (target.isBlockQuantized() && cols % target.blockSize() != 0) {
            throw new ModelFormatException("cannot convert " + name + " " + Arrays.toString(t.shape()) + " to " + target
                    + ": its rows of " + cols + " values are not whole blocks of " + target.blockSize());
        }
        long n = Math.multiplyExact(rows, cols);
        MemorySegment out = memory.allocate(target.byteSize(rows, cols));
        if (target == WeightType.F32) {
            Quantization.dequantize(t.type(), t.data(), out, n);
        } else if (t.type() == WeightType.F32) {
            Quantization.quantize(target, t.data(), out, n);
        } else {
            try (Arena scratch = Arena.ofConfined()) {
                MemorySegment floats = scratch.allocate(n * Float.BYTES, 64);
                Quantization.dequantize(t.type(), t.data(), floats, n);
                Quantization.quantize(target, floats, out, n);
            }
        }
        return new TypedTensor(target, out, t.shape());
    }
}
