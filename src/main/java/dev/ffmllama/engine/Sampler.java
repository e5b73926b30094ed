package dev.ffmllama.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Picks the next token from logits: greedy at temperature 0, otherwise softmax(logits / T) then
 * top-k and/or top-p (nucleus) filtering and a draw from llama2.c's xorshift generator, so a given
 * seed reproduces the same text (and, without top-k, the same tokens as llama2.c's {@code run.c}).
 * Work arrays are allocated once (a session keeps one sampler and {@link #reseed}s it per
 * generation); {@link #sample} and {@link #reseed} allocate nothing.
 */
public final class Sampler {
    private final int vocab;
    private final float temperature;
    private final float topP;
    private final int topK;
    private final long seed;
    private final float[] probs;
    private final long[] candidates; // (probability bits << 32) | token id, for sorting without boxing
    private long rngState;

    /**
     * @param temperature 0 for greedy; must be finite and non-negative
     * @param topP        nucleus mass in (0, 1]; 1 (or more) disables it, values <= 0 disable it as in run.c
     * @param topK        keep the k most likely tokens; 0 disables it
     * @param seed        generator seed (0 is mapped to a fixed non-zero state)
     */
    public Sampler(int vocab, float temperature, float topP, int topK, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (Float.isNaN(topP)) throw new IllegalArgumentException("top-p must be a number, got NaN");
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        this.vocab = vocab;
        this.temperature = temperature;
        this.topP = topP;
        this.topK = Math.min(topK, vocab);
        this.probs = new float[vocab];
        this.candidates = new long[vocab];
        this.seed = seed;
        reseed();
    }

    /** Restarts the random sequence from the seed, so every generation with one seed draws alike. */
    public void reseed() {
        this.rngState = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    /** Chooses a token from {@code logits[row]} of a {@code [rows, vocab]} float buffer. */
    public int sample(MemorySegment logits, int row) {
        long base = (long) row * vocab;
        if (temperature == 0f) return argmax(logits, base);
        // softmax(logits / T) in double for the normalizer, max-subtracted
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits.getAtIndex(ValueLayout.JAVA_FLOAT, base + i));
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            float p = (float) Math.exp((logits.getAtIndex(ValueLayout.JAVA_FLOAT, base + i) - max) / temperature);
            probs[i] = p;
            sum += p;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < vocab; i++) probs[i] *= inv;

        float coin = nextFloat();
        boolean nucleus = topP > 0 && topP < 1;
        if (topK == 0 && !nucleus) return sampleMultinomial(coin);
        return sampleTruncated(coin, nucleus ? topP : 1f);
    }

    private int argmax(MemorySegment logits, long base) {
        int best = 0;
        float bestValue = logits.getAtIndex(ValueLayout.JAVA_FLOAT, base);
        for (int i = 1; i < vocab; i++) {
            float v = logits.getAtIndex(ValueLayout.JAVA_FLOAT, base + i);
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return best;
    }

    private int sampleMultinomial(float coin) {
        float cdf = 0;
        for (int i = 0; i < vocab; i++) {
            cdf += probs[i];
            if (coin < cdf) return i;
        }
        return vocab - 1; // rounding
    }

    /**
     * Top-k then top-p over the sorted candidates. Like run.c, tokens below (1 - p) / (n - 1) are
     * dropped before sorting: they cannot be part of the nucleus.
     */
    private int sampleTruncated(float coin, float p) {
        float cutoff = topK == 0 ? (1f - p) / (vocab - 1) : 0f;
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            if (probs[i] >= cutoff) candidates[n++] = ((long) Float.floatToRawIntBits(probs[i]) << 32) | i;
        }
        LongHeapSort.sortDescending(candidates, n);
        int keep = topK == 0 ? n : Math.min(n, topK);
        float kept = 0;
        int last = keep - 1;
        for (int i = 0; i < keep; i++) {
            kept += probOf(candidates[i]);
            if (kept > p) {
                last = i;
                break;
            }
        }
        float mass = 0;
        for (int i = 0; i <= last; i++) mass += probOf(candidates[i]);
        float r = coin * mass;
        float cdf = 0;
        for (int i = 0; i <= last; i++) {
            cdf += probOf(candidates[i]);
            if (r < cdf) return (int) candidates[i];
        }
        return (int) candidates[last];
    }

    private static float probOf(long candidate) {
        return Float.intBitsToFloat((int) (candidate >>> 32));
    }

    /** llama2.c's xorshift64* generator: a float in [0, 1). */
    private float nextFloat() {
        rngState ^= rngState >>> 12;
        rngState ^= rngState << 25;
        rngState ^= rngState >>> 27;
        int u = (int) ((rngState * 0x2545F4914F6CDD1DL) >>> 32);
        return (u >>> 8) / 16777216.0f;
    }

    /** In-place heap sort of a long prefix, descending: no allocation (unlike Arrays.sort's run merging). */
    static final class LongHeapSort {
        private LongHeapSort() {
        }

        static void sortDescending(long[] a, int n) {
            // min-heap, then repeatedly move the minimum to the end: yields descending order
            for (int i = n / 2 - 1; i >= 0; i--) siftDown(a, i, n);
            for (int end = n - 1; end > 0; end--) {
                long t = a[0];
                a[0] = a[end];
                a[end] = t;
                siftDown(a, 0, end);
            }
        }

        private static void siftDown(long[] a, int i, int n) {
            long v = a[i];
            while (true) {
                int child = 2 * i + 1;
                if (child >= n) break;
                if (child + 1 < n && a[child + 1] < a[child]) child++;
                if (a[child] >= v) break;
                a[i] = a[child];
                i = child;
            }
            a[i] = v;
        }
    }
}
