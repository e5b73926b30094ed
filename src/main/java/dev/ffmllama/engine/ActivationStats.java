package dev.ffmllama.engine;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * A {@link DecoderProbe} that reduces every observed activation to its root mean square and its
 * largest magnitude, per layer and {@link ProbeSite}, accumulated (in double) over every token of
 * every forward pass it sees. Layer {@code nLayers} holds the final norm's sites.
 */
public final class ActivationStats implements DecoderProbe {
    private final int nLayers;
    private final Map<ProbeSite, double[]> sumSquares = new EnumMap<>(ProbeSite.class);
    private final Map<ProbeSite, double[]> maxAbs = new EnumMap<>(ProbeSite.class);
    private final Map<ProbeSite, long[]> counts = new EnumMap<>(ProbeSite.class);

    /** Statistics for a model of {@code nLayers} blocks. */
    public ActivationStats(int nLayers) {
        this.nLayers = nLayers;
    }

    @Override
    public void observe(int layer, ProbeSite site, MemorySegment values, int rows, int dim) {
        long n = (long) rows * dim;
        double squares = 0, max = 0;
        for (long i = 0; i < n; i++) {
            double v = values.getAtIndex(JAVA_FLOAT, i);
            squares += v * v;
            max = Math.max(max, Math.abs(v));
        }
        add(layer, site, squares, max, n);
    }

    @Override
    public void observeScaledSum(int layer, ProbeSite site, float alpha, MemorySegment x, MemorySegment f, int rows,
                                 int dim) {
        long n = (long) rows * dim;
        double squares = 0, max = 0;
        for (long i = 0; i < n; i++) {
            // rounded to float as the fused kernel's input would be, then reduced in double
            double v = (float) (alpha * x.getAtIndex(JAVA_FLOAT, i) + f.getAtIndex(JAVA_FLOAT, i));
            squares += v * v;
            max = Math.max(max, Math.abs(v));
        }
        add(layer, site, squares, max, n);
    }

    private void add(int layer, ProbeSite site, double squares, double max, long n) {
        if (layer < 0 || layer > nLayers) throw new IllegalArgumentException("layer " + layer + " of " + nLayers);
        sumSquares.computeIfAbsent(site, s -> new double[nLayers + 1])[layer] += squares;
        double[] m = maxAbs.computeIfAbsent(site, s -> new double[nLayers + 1]);
        m[layer] = Math.max(m[layer], max);
        counts.computeIfAbsent(site, s -> new long[nLayers + 1])[layer] += n;
    }

    /** Number of blocks. */
    public int layers() {
        return nLayers;
    }

    /** Whether {@code site} of {@code layer} was observed. */
    public boolean has(int layer, ProbeSite site) {
        long[] c = counts.get(site);
        return c != null && c[layer] > 0;
    }

    /** sqrt(mean(v²)) over every observed value at that point; NaN when never observed. */
    public double rms(int layer, ProbeSite site) {
        if (!has(layer, site)) return Double.NaN;
        return Math.sqrt(sumSquares.get(site)[layer] / counts.get(site)[layer]);
    }

    /** max |v| over every observed value at that point; NaN when never observed. */
    public double maxAbs(int layer, ProbeSite site) {
        return has(layer, site) ? maxAbs.get(site)[layer] : Double.NaN;
    }
}
