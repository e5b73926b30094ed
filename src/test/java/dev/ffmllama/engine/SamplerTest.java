package dev.ffmllama.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SamplerTest {
    static MemorySegment logits(Arena arena, float... values) {
        MemorySegment s = arena.allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT, 0, values.length);
        return s;
    }

    @Test
    void greedyTakesTheArgmax() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = logits(arena, 0.1f, 3f, -2f, 2.9f);
            assertEquals(1, new Sampler(4, 0f, 0.9f, 0, 1).sample(l, 0));
        }
    }

    @Test
    void secondRowIsRead() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = logits(arena, 5f, 0f, 0f, 0f, 9f, 0f);
            assertEquals(1, new Sampler(3, 0f, 1f, 0, 1).sample(l, 1));
        }
    }

    @Test
    void topKOneAndTinyTopPAreGreedy() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = logits(arena, 1f, 2f, 1.5f, 0.5f, 1.9f);
            for (long seed = 1; seed < 50; seed++) {
                assertEquals(1, new Sampler(5, 1f, 1f, 1, seed).sample(l, 0));
                assertEquals(1, new Sampler(5, 1f, 1e-6f, 0, seed).sample(l, 0));
            }
        }
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        float[] values = {0f, 1f, 2f, 0.5f};
        double[] expected = new double[4];
        double z = 0;
        for (int i = 0; i < 4; i++) z += Math.exp(values[i]);
        for (int i = 0; i < 4; i++) expected[i] = Math.exp(values[i]) / z;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = logits(arena, values);
            Sampler s = new Sampler(4, 1f, 1f, 0, 7);
            int n = 200_000;
            int[] counts = new int[4];
            for (int i = 0; i < n; i++) counts[s.sample(l, 0)]++;
            for (int i = 0; i < 4; i++) {
                assertEquals(expected[i], counts[i] / (double) n, 0.01, "token " + i + " " + Arrays.toString(counts));
            }
        }
    }

    @Test
    void topKExcludesTheTail() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = logits(arena, 3f, 2.9f, 0f, 0f, 0f, 0f);
            Sampler s = new Sampler(6, 1f, 1f, 2, 3);
            for (int i = 0; i < 10_000; i++) assertTrue(s.sample(l, 0) < 2);
        }
    }

    @Test
    void sameSeedSameDraws() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = logits(arena, 0.3f, 0.2f, 0.1f, 0f, 0.4f);
            Sampler a = new Sampler(5, 1f, 0.9f, 0, 42), b = new Sampler(5, 1f, 0.9f, 0, 42);
            for (int i = 0; i < 1000; i++) assertEquals(a.sample(l, 0), b.sample(l, 0));
        }
    }

    @Test
    void heapSortSortsDescending() {
        long[] a = {5, -3, 9, 0, 9, 2, Long.MAX_VALUE, 1};
        Sampler.LongHeapSort.sortDescending(a, a.length);
        assertEquals("[9223372036854775807, 9, 9, 5, 2, 1, 0, -3]", Arrays.toString(a));
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, -1f, 0.9f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, Float.NaN, 0.9f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, 1f, Float.NaN, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, 1f, 0.9f, -2, 1));
    }

    @Test
    void reseedRestartsTheRandomSequence() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = logits(arena, 1f, 1.2f, 0.9f, 1.1f, 1f, 0.8f, 1.05f);
            Sampler sampler = new Sampler(7, 1f, 1f, 0, 42);
            int[] first = new int[64];
            for (int i = 0; i < first.length; i++) first[i] = sampler.sample(l, 0);
            sampler.reseed();
            int[] again = new int[64];
            for (int i = 0; i < again.length; i++) again[i] = sampler.sample(l, 0);
            assertTrue(Arrays.equals(first, again), "the same draws after reseed()");
            assertTrue(Arrays.stream(first).distinct().count() > 1, "the draws are random, not constant");
        }
    }
}
