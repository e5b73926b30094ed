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
 * reads, and how much the process's AnonHugePages grew when the layout's model and session were set up. Each layout gets its own model load
 * (the weight layouts copy at load time) and session; all are warmed up first, then measured round-robin
 * ({@code --repeat} rounds of one run per layout), so drifting machine load or JIT state cannot favour the
 * layouts measured first.
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
                  List<Integer> threadCounts, int promptTokens, int generatedTokens, int repeat) {
        List<Row> rows = new ArrayList<>();
        BenchCommand.Progress progress = bench.progress(backends.size() * threadCounts.size() * (1 + repeat));
        for (Backend backend : backends) {
            for (int threads : threadCounts) {
                List<Open> open = new ArrayList<>();
                List<Long> hugeKb = new ArrayList<>();
                try {
                    progress.step(backend.cliName() + " t" + threads + " warm-up");
                    for (Layout layout : layouts) {
                        long hugeBefore = HugePages.anonHugePagesKb();
                        Open o = open(modelPath, weights, layout, backend, threads, promptTokens, generatedTokens);
                        open.add(o);
                        if (promptTokens > 0) bench.warmUp(o.session, o.prompt, 1);
                        if (generatedTokens > 0) bench.warmUp(o.session, o.bos, generatedTokens);
                        hugeKb.add(HugePages.anonHugePagesKb() - hugeBefore); // what this layout's load and session added
                    }
                    // Round-robin: run r of every layout, then run r + 1 of every layout..., so that a change in
                    // machine load or JIT state during the measurement affects all layouts alike.
                    double[][] pp = new double[layouts.size()][repeat], tg = new double[layouts.size()][repeat];
                    for (int r = 0; r < repeat; r++) {
                        progress.step(backend.cliName() + " t" + threads + " round " + (r + 1));
                        for (int i = 0; i < open.size(); i++) {
                            Open o = open.get(i);
                            if (promptTokens > 0) pp[i][r] = BenchCommand.speedOnce(o.session, o.prompt, 1, true);
                            if (generatedTokens > 0) {
                                tg[i][r] = BenchCommand.speedOnce(o.session, o.bos, generatedTokens, false);
                            }
                        }
                    }
                    for (int i = 0; i < open.size(); i++) {
                        Open o = open.get(i);
                        ModelConfig c = o.model.config();
                        if (promptTokens > 0) {
                            rows.add(row(backend, threads, o.layout, "pp" + promptTokens, pp[i], pp[0], o.model,
                                    kvBytesPerToken(c, o.layout, promptTokens), hugeKb.get(i)));
                        }
                        if (generatedTokens > 0) {
                            rows.add(row(backend, threads, o.layout, "tg" + generatedTokens, tg[i], tg[0], o.model,
                                    kvBytesPerToken(c, o.layout, generatedTokens), hugeKb.get(i)));
                        }
                    }
                } finally {
                    for (Open o : open) o.close();
                }
            }
        }
        progress.done();
        return rows;
    }

    /** A model loaded in one layout, with a session and its inputs. */
    private record Open(Layout layout, Model model, Session session, int[] prompt, int[] bos) implements AutoCloseable {
        @Override
        public void close() {
            session.close();
            model.close();
        }
    }

    private static Open open(Path modelPath, WeightType weights, Layout layout, Backend backend, int threads,
                             int promptTokens, int generatedTokens) {
        LoadOptions load = LoadOptions.defaults().withWeights(weights).withLayout(layout.weightPart());
        Model model = modelPath == null ? Model.loadBundled(load) : Model.load(modelPath, load);
        try {
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
            return new Open(layout, model, model.newSession(options), prompt, new int[] {model.tokenizer().bosId()});
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    private static Row row(Backend backend, int threads, Layout layout, String test, double[] speeds,
                           double[] defaultSpeeds, Model model, long kvBytes, long hugeKb) {
        double mean = mean(speeds);
        double squares = 0;
        for (double x : speeds) squares += (x - mean) * (x - mean);
        double std = speeds.length > 1 ? Math.sqrt(squares / (speeds.length - 1)) : 0;
        return new Row(backend.cliName(), threads, layout.toString(), test, mean, std, mean / mean(defaultSpeeds),
                model.weightBytesPerToken(), kvBytes, hugeKb);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
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
        sb.append("| backend | threads | layout | test | t/s | vs default | weights B/token | KV B/token | +AnonHugePages |\n");
        sb.append("| ------- | ------: | ------ | ---- | --: | ---------: | --------------: | ---------: | -------------: |\n");
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
