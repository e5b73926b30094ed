package dev.ffmllama.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.kernels.Quantization;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Typed weights from the quantized tiny32 GGUFs (llama-quantize output): every matrix comes back in its stored
 * type and shape, and re-quantizing its dequantized values reproduces the file's bytes — so the Java quantizer
 * and dequantizer follow ggml's layout and rounding exactly.
 */
class TypedWeightsTest {

    @ParameterizedTest
    @CsvSource({"tiny32-q8_0.gguf, Q8_0", "tiny32-f16.gguf, F16"})
    void matricesRoundTripToTheFilesBytes(String file, WeightType stored) throws Exception {
        try (GgufModel model = GgufModel.open(SharedFiles.golden("quant/" + file));
             Arena arena = Arena.ofConfined()) {
            int matrices = 0;
            for (GgufTensorInfo info : model.gguf().tensorInfos()) {
                TypedTensor t = model.weight(info.name(), info.shape());
                assertArrayEquals(info.shape(), t.shape());
                if (info.shape().length == 1) {
                    assertEquals(WeightType.F32, t.type(), info.name()); // norm weights stay F32
                    continue;
                }
                assertEquals(stored, t.type(), info.name());
                long n = t.rows() * t.cols();
                MemorySegment values = arena.allocate(n * Float.BYTES, 64);
                MemorySegment requantized = arena.allocate(t.data().byteSize());
                Quantization.dequantize(t.type(), t.data(), values, n);
                Quantization.quantize(t.type(), values, requantized, n);
                assertEquals(-1L, t.data().mismatch(requantized), info.name() + ": re-quantized bytes differ");
                MemorySegment lastRow = arena.allocate(t.cols() * Float.BYTES, 64);
                Quantization.dequantizeRow(t.type(), t.data(), t.rows() - 1, t.cols(), lastRow, 0);
                assertEquals(-1L, lastRow.mismatch(values.asSlice((t.rows() - 1) * t.cols() * Float.BYTES)),
                        info.name() + ": dequantizeRow differs from dequantize");
                matrices++;
            }
            assertEquals(30, matrices);
        }
    }

    @ParameterizedTest
    @CsvSource({"tiny32-q8_0.gguf, Q8_0", "tiny32-f16.gguf, F16"})
    void tensorStaysFloat32OnlyWithAClearError(String file, String type) throws Exception {
        try (GgufModel model = GgufModel.open(SharedFiles.golden("quant/" + file))) {
            var e = assertThrows(ModelFormatException.class, () -> model.tensor("blk.0.attn_q.weight"));
            assertTrue(e.getMessage().contains("has type " + type + ", which is not supported (supported: F32)"),
                    e.getMessage());
            var shape = assertThrows(ModelFormatException.class, () -> model.weight("blk.0.attn_q.weight", 3, 4));
            assertTrue(shape.getMessage().contains("has shape [128, 128]"), shape.getMessage());
        }
    }

    @ParameterizedTest
    @CsvSource({"tiny32-q8_0.gguf"})
    void q8_0ScalesAreFp16AndQuantsSigned(String file) throws Exception {
        try (GgufModel model = GgufModel.open(SharedFiles.golden("quant/" + file))) {
            TypedTensor t = model.weight("blk.0.attn_q.weight");
            MemorySegment block = t.data();
            float d = Float.float16ToFloat(block.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
            assertTrue(d > 0 && d < 1, "scale " + d);
            int negatives = 0;
            for (int j = 0; j < 32; j++) {
                byte q = block.get(ValueLayout.JAVA_BYTE, 2 + j);
                assertEquals(d * q, Quantization.valueAt(WeightType.Q8_0, block, j));
                if (q < 0) negatives++;
            }
            assertTrue(negatives > 0, "random weights have negative quants");
        }
    }
}
