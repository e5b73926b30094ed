package dev.ffmllama.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Renders {@code scripts/bench-report}'s results as a grouped bar chart PNG (headless): one chart
 * per test kind (pp, tg), x = model, one bar series per backend × threads, y = tokens/s (log scale),
 * labelled with its value.
 *
 * <p>Usage: {@code BenchChart results.tsv out.png "title"}; the TSV has the header
 * {@code model test backend threads tps std} and one row per measurement.
 */
public final class BenchChart {
    private BenchChart() {
    }

    record Row(String model, String test, String series, double tps, double std) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) throw new IllegalArgumentException("usage: BenchChart results.tsv out.png title");
        System.setProperty("java.awt.headless", "true");
        List<Row> rows = read(Path.of(args[0]));
        List<CategoryChart> charts = new ArrayList<>();
        for (String kind : new String[] {"tg", "pp"}) {
            List<Row> of = rows.stream().filter(r -> r.test().startsWith(kind)).toList();
            if (!of.isEmpty()) charts.add(chart(of, args[2] + " — " + of.get(0).test()));
        }
        if (charts.isEmpty()) throw new IllegalArgumentException(args[0] + " holds no pp/tg rows");
        BitmapEncoder.saveBitmap(new ArrayList<>(charts), charts.size(), 1, args[1], BitmapEncoder.BitmapFormat.PNG);
    }

    private static CategoryChart chart(List<Row> rows, String title) {
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(450).title(title)
                .xAxisTitle("model").yAxisTitle("tokens/s (log)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setYAxisMin(10.0); // bars start at 0 otherwise, which a log axis rejects
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
        chart.getStyler().setLabelsRotation(90);
        chart.getStyler().setDecimalPattern("#,##0");
        LinkedHashSet<String> models = new LinkedHashSet<>();
        Map<String, Map<String, Row>> bySeries = new LinkedHashMap<>();
        for (Row r : rows) {
            models.add(r.model());
            bySeries.computeIfAbsent(r.series(), s -> new LinkedHashMap<>()).put(r.model(), r);
        }
        List<String> x = new ArrayList<>(models);
        for (Map.Entry<String, Map<String, Row>> e : bySeries.entrySet()) {
            // no error bars: xchart rejects them on a log axis; the spread is in report.md's table
            List<Double> y = new ArrayList<>();
            for (String m : x) {
                Row r = e.getValue().get(m);
                y.add(r == null ? Double.NaN : r.tps());
            }
            chart.addSeries(e.getKey(), x, y);
        }
        return chart;
    }

    private static List<Row> read(Path tsv) throws IOException {
        List<Row> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(tsv);
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            if (f.length != 6) throw new IllegalArgumentException(tsv + ": expected 6 columns in: " + line);
            rows.add(new Row(f[0], f[1], f[2] + " t" + f[3], Double.parseDouble(f[4]), Double.parseDouble(f[5])));
        }
        return rows;
    }
}
