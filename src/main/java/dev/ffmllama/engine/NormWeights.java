package dev.ffmllama.engine;

import java.lang.foreign.MemorySegment;

/**
 * The parameters of one norm: views into the mapped model file.
 *
 * @param weight [dim] scale (γ)
 * @param bias   [dim] shift (β) of a LayerNorm, or null (RMSNorm, or a LayerNorm without bias)
 */
record NormWeights(MemorySegment weight, MemorySegment bias) {
}
