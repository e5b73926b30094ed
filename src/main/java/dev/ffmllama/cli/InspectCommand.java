package dev.ffmllama.cli;

import dev.ffmllama.Model;
import dev.ffmllama.engine.ActivationStats;
import dev.ffmllama.engine.Inference;
import dev.ffmllama.engine.ProbeSite;
import dev.ffmllama.engine.Weights;
import dev.ffmllama.format.ModelConfig;
import dev.ffmllama.format.ModelFile;
import dev.ffmllama.format.ModelFiles;
import dev.ffmllama.kernels.Backend;
import java.awt.BasicStroke;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code inspect}: a model's normalization variant, and with {@code --stats} the per-layer RMS and
 * max |value| of the residual stream, of each norm's input and output and of the sublayer outputs
 * for one prompt, as a table and optionally a PNG chart of the residual RMS by layer (one line per
 * model).
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model's normalization; with --stats, per-layer activation statistics for a prompt.")
final class InspectCommand implements Callable<Integer> {
    /** The sites shown in the table, in block order. */
    private static final ProbeSite[] BLOCK_SITES = {
            ProbeSite.BLOCK_INPUT, ProbeSite.ATTN_NORM_INPUT, ProbeSite.ATTN_NORM_OUTPUT, ProbeSite.ATTN_OUTPUT,
            ProbeSite.POST_ATTN_NORM_OUTPUT, ProbeSite.FFN_NORM_INPUT, ProbeSite.FFN_NORM_OUTPUT, ProbeSite.FFN_OUTPUT,
            ProbeSite.POST_FFN_NORM_OUTPUT};

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "GGUF or llama2.c model; repeat to compare several (one chart line each)")
    List<Path> models;

    @Option(names = "--stats", description = "run the prompt and print per-layer activation statistics")
    boolean stats;

    @Option(names = "--prompt", defaultValue = "Once upon a time, there was a little girl named Lily.",
            paramLabel = "TEXT", description = "text to run (with BOS) for --stats (default: \"${DEFAULT-VALUE}\")")
    String prompt;

    @Option(names = "--png", paramLabel = "PATH", description = "with --stats: write a line chart of the residual RMS by layer")
    Path png;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "native",
            description = "native, vector or java (default ${DEFAULT-VALUE})")
    String backend;

    /** One model's results, for the chart. */
    private record Run(String label, ActivationStats stats) {
    }

    @Override
    public Integer call() throws IOException {
        if (png != null && !stats) throw new UserException("--png needs --stats");
        for (Path p : models) ModelOptions.requireFile(p, "model");
        Backend kernels = Backend.parse(backend);
        PrintStream out = System.out;
        List<Run> runs = new ArrayList<>();
        for (Path path : models) {
            try (Model model = Model.load(path)) {
                ModelConfig c = model.config();
                String label = path.getFileName() + " (" + c.norm().describe() + ")";
                out.printf(Locale.ROOT, "%s: %s, eps %.3g, dim %d, %d layers%n", path, c.norm().describe(), c.normEps(),
                        c.dim(), c.nLayers());
                if (!stats) continue;
                int[] ids = model.tokenizer().encode(prompt, true, false);
                ActivationStats s = collect(path, c, ids, kernels);
                printTable(out, s, c, ids.length);
                runs.add(new Run(label, s));
            }
        }
        if (png != null) {
            writeChart(runs, png);
            System.err.println("wrote " + png);
        }
        return 0;
    }

    /** Runs the prompt as one batched forward pass with a statistics probe attached. */
    private static ActivationStats collect(Path path, ModelConfig c, int[] ids, Backend backend) throws IOException {
        if (ids.length > c.contextLength()) {
            throw new UserException("the prompt has " + ids.length + " tokens but the context holds only " + c.contextLength());
        }
        ActivationStats stats = new ActivationStats(c.nLayers());
        try (ModelFile file = ModelFiles.open(path);
             Inference inference = new Inference(c, new Weights(file), backend.kernels(), ids.length, ids.length)) {
            inference.probe(stats);
            inference.feed(ids, 0, ids.length, 0, false);
        }
        return stats;
    }

    private static void printTable(PrintStream out, ActivationStats s, ModelConfig c, int tokens) {
        out.printf("  %d prompt tokens; each cell is RMS / max|v| over all tokens%n", tokens);
        List<ProbeSite> shown = new ArrayList<>();
        for (ProbeSite site : BLOCK_SITES) if (s.has(0, site)) shown.add(site);
        StringBuilder header = new StringBuilder(String.format("  %5s", "layer"));
        for (ProbeSite site : shown) header.append(String.format("  %-19s", site.label()));
        out.println(header);
        for (int l = 0; l < c.nLayers(); l++) {
            StringBuilder row = new StringBuilder(String.format("  %5d", l));
            for (ProbeSite site : shown) row.append("  ").append(cell(s, l, site));
            out.println(row);
        }
        int fin = c.nLayers();
        if (s.has(fin, ProbeSite.FINAL_NORM_INPUT)) {
            out.printf("  final norm: in %s  out %s%n", cell(s, fin, ProbeSite.FINAL_NORM_INPUT),
                    cell(s, fin, ProbeSite.FINAL_NORM_OUTPUT));
        }
        out.println();
    }

    private static String cell(ActivationStats s, int layer, ProbeSite site) {
        return String.format(Locale.ROOT, "%-19s", String.format(Locale.ROOT, "%.3g / %.3g", s.rms(layer, site),
                s.maxAbs(layer, site)));
    }

    /**
     * Residual RMS entering each block (x = 0..N-1), and at x = N the last block's output (the final
     * norm's input, when the model has a final norm). Log scale.
     */
    private static void writeChart(List<Run> runs, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(560)
                .title("Residual stream RMS by layer").xAxisTitle("layer (residual entering the block; last = model output)")
                .yAxisTitle("RMS").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
        chart.getStyler().setYAxisDecimalPattern("0.###");
        // Post-norm placements sit on top of each other (their residual is a norm output, RMS ~1):
        // distinct markers and dash patterns keep every line visible.
        Marker[] markers = {SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.DIAMOND, SeriesMarkers.TRIANGLE_UP};
        BasicStroke[] lines = {SeriesLines.SOLID, SeriesLines.DASH_DASH, SeriesLines.DOT_DOT, SeriesLines.DASH_DOT};
        for (int i = 0; i < runs.size(); i++) {
            Run run = runs.get(i);
            ActivationStats s = run.stats();
            int n = s.layers();
            List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
            for (int l = 0; l < n; l++) {
                xs.add((double) l);
                ys.add(s.rms(l, ProbeSite.BLOCK_INPUT));
            }
            if (s.has(n, ProbeSite.FINAL_NORM_INPUT)) {
                xs.add((double) n);
                ys.add(s.rms(n, ProbeSite.FINAL_NORM_INPUT));
            }
            XYSeries series = chart.addSeries(run.label(), xs, ys);
            series.setMarker(markers[i % markers.length]);
            series.setLineStyle(lines[i % lines.length]);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
