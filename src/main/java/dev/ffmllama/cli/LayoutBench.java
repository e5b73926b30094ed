package dev.ffmllama.cli;

import dev.ffmllama.LoadOptions;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.layout.HugePages;
import dev.ffmllama.layout.Layout;
import dev.ffmllama.tensor.WeightType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * {@code bench --layouts}: every memory layout against the default one, on the same model, backends and
 * thread counts: tokens/s, the ratio to the default layout, the bytes of weights and of KV cache one token
 * reads, and the process's AnonHugePages while the session ran. Each layout gets its own model load (the
 * weight layouts copy at load time), session, warm-up and measured runs, after a first pass that only warms
 * every layout up.
 */
final class LayoutBench {

    /** One line of the layout table. */
    record Row(String backend, int threads, String layout, String test, double tokensPerSecond, double std,
               double ratio, long weightBytesPerToken, long kvBytesPerToken, long anonHugePagesKb) {
    }

    private final BenchCommand bench;

    LayoutBench(BenchCommand bench) {
        this.bench = bench;
    }

    /** The default layout, then each of {@code specs} ("all": {@link Layout#benchVariants()}). */
    static List<Layout> layouts(List<String> specs) {
        List<Layout> layouts = new ArrayList<>();
        layouts.add(Layout.defaults());
        for (String spec : specs) {
            List<Layout> add;
            try {
                add = spec.trim().equalsIgnoreCase("all") ? Layout.benchVariants() : List.of(Layout.parse(spec));
            } catch (IllegalArgumentException e) {
                throw new UserException("--layouts: " + e.getMessage());
            }
            for (Layout l : add) if (!layouts.contains(l)) layouts.add(l);
        }
        return layouts;
    }

    List<Row> run(Path modelPath, WeightType weights, List<Layout> layouts, List<Backend> backends,
                  List<Integer> threadCounts, int promptTokens, int generatedTokens) {
        List<Row> rows = new ArrayList<>();
        BenchCommand.Progress progress = bench.progress(2 * layouts.size() * backends.size() * threadCounts.size());
        for (Backend backend : backends) {
            for (int threads : threadCounts) {
                // Pass 0 only warms every layout up, so the JIT has seen all their code paths before the
                // first measurement (else the layout measured first, the default, runs on a colder JIT).
                for (int pass = 0; pass < 2; pass++) {
                    double[] baseline = new double[2]; // pp, tg tokens/s of the default layout
                    for (Layout layout : layouts) {
                        progress.step((pass == 0 ? "warm " : "") + backend.cliName() + " t" + threads + " " + layout);
                        measure(modelPath, weights, layout, backend, threads, promptTokens, generatedTokens,
                                pass == 0 ? null : rows, baseline);
                    }
                }
            }
        }
        progress.done();
        return rows;
    }

    /** Loads the model in {@code layout}, opens a session and warms it up; measures into {@code rows} unless null. */
    private void measure(Path modelPath, WeightType weights, Layout layout, Backend backend, int threads,
                         int promptTokens, int generatedTokens, List<Row> rows, double[] baseline) {
        LoadOptions load = LoadOptions.defaults().withWeights(weights).withLayout(layout.weightPart());
        try (Model model = modelPath == null ? Model.loadBundled(load) : Model.load(modelPath, load)) {
            ModelConfig c = model.config();
            int positions = Math.max(promptTokens, generatedTokens + 1);
            if (positions > c.contextLength()) {
                throw new UserException("-p/-n need " + positions + " positions but the model's context is "
                        + c.contextLength());
            }
            SessionOptions options = SessionOptions.defaults().withBackend(backend).withThreads(threads).greedy()
                    .withSeed(1).withContextLength(positions).withPrefillBatch(Math.max(1, promptTokens))
                    .withLayout(layout.cachePart());
            int[] prompt = BenchCommand.randomTokens(promptTokens, c.vocabSize(), model.tokenizer().bosId());
            int[] bos = {model.tokenizer().bosId()};
            try (Session session = model.newSession(options)) {
                if (promptTokens > 0) {
                    if (rows == null) bench.warmUp(session, prompt, 1);
                    else rows.add(row(backend, threads, layout, "pp" + promptTokens, 0, baseline,
                            bench.runs(session, prompt, 1, true), model, kvBytesPerToken(c, layout, promptTokens)));
                }
                if (generatedTokens > 0) {
                    if (rows == null) bench.warmUp(session, bos, generatedTokens);
                    else rows.add(row(backend, threads, layout, "tg" + generatedTokens, 1, baseline,
                            bench.runs(session, bos, generatedTokens, false), model,
                            kvBytesPerToken(c, layout, generatedTokens)));
                }
            }
        }
    }

    private static Row row(Backend backend, int threads, Layout layout, String test, int testIndex, double[] baseline,
                           BenchCommand.Runs runs, Model model, long kvBytes) {
        double[] v = runs.tokensPerSecond();
        double mean = 0;
        for (double x : v) mean += x;
        mean /= v.length;
        double squares = 0;
        for (double x : v) squares += (x - mean) * (x - mean);
        double std = v.length > 1 ? Math.sqrt(squares / (v.length - 1)) : 0;
        if (layout.equals(Layout.defaults())) baseline[testIndex] = mean;
        return new Row(backend.cliName(), threads, layout.toString(), test, mean, std, mean / baseline[testIndex],
                model.weightBytesPerToken(), kvBytes, HugePages.anonHugePagesKb());
    }

    /**
     * KV-cache bytes read per token, averaged over a test of {@code tokens} tokens from position 0: the token at
     * position p reads the keys and values of positions 0..p in every layer.
     */
    static long kvBytesPerToken(ModelConfig c, Layout layout, int tokens) {
        long elementBytes = layout.kvType() == WeightType.F16 ? 2 : 4;
        return 2L * c.nLayers() * c.kvDim() * elementBytes * (tokens + 1) / 2;
    }

    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| backend | threads | layout | test | t/s | vs default | weights B/token | KV B/token | AnonHugePages |\n");
        sb.append("| ------- | ------: | ------ | ---- | --: | ---------: | --------------: | ---------: | ------------: |\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %.2f ± %.2f | %.3f | %,d | %,d | %s |%n",
                    r.backend(), r.threads(), r.layout(), r.test(), r.tokensPerSecond(), r.std(), r.ratio(),
                    r.weightBytesPerToken(), r.kvBytesPerToken(),
                    r.anonHugePagesKb() < 0 ? "n/a" : String.format(Locale.ROOT, "%,d kB", r.anonHugePagesKb())));
        }
        return sb.toString();
    }

    /** A bar chart of the speed ratio to the default layout: one group per layout, one bar per backend/test. */
    static void chart(List<Row> rows, String title, Path png) {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(560).title(title)
                .xAxisTitle("layout").yAxisTitle("tokens/s relative to the default layout").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setXAxisLabelRotation(20);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        List<String> series = new ArrayList<>();
        for (Row r : rows) {
            String s = r.backend() + " t" + r.threads() + " " + r.test();
            if (!series.contains(s)) series.add(s);
        }
        for (String s : series) {
            List<String> layouts = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
            for (Row r : rows) {
                if ((r.backend() + " t" + r.threads() + " " + r.test()).equals(s) && !r.layout().equals("default")) {
                    layouts.add(r.layout());
                    ratios.add(r.ratio());
                }
            }
            chart.addSeries(s, layouts, ratios);
        }
        try {
            BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }
}
