package dev.ffmllama.cli;

import java.util.List;
import java.util.Locale;

/** Formats {@link BenchCommand} results as a llama-bench-style markdown table or as JSON. */
final class BenchReport {
    private static final String[] HEADER = {"model", "size", "params", "backend", "threads", "test", "t/s", "B/token"};

    private BenchReport() {
    }

    static String table(List<BenchCommand.Result> results) {
        String[][] cells = new String[results.size() + 1][];
        cells[0] = HEADER;
        for (int i = 0; i < results.size(); i++) {
            BenchCommand.Result r = results.get(i);
            cells[i + 1] = new String[] {r.model(), mebibytes(r.sizeBytes()), millions(r.params()), r.backend(),
                    Integer.toString(r.threads()), r.test(),
                    String.format(Locale.ROOT, "%.2f ± %.2f", r.meanTokensPerSecond(), r.stdTokensPerSecond()),
                    String.format(Locale.ROOT, "%.0f", r.bytesPerToken())};
        }
        int[] width = new int[HEADER.length];
        for (String[] row : cells) {
            for (int c = 0; c < row.length; c++) width[c] = Math.max(width[c], row[c].length());
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            appendRow(sb, cells[i], width);
            if (i == 0) {
                sb.append('|');
                for (int c = 0; c < width.length; c++) {
                    boolean numeric = c == 1 || c == 2 || c == 4 || c >= 6;
                    sb.append(' ').append("-".repeat(width[c] - (numeric ? 1 : 0))).append(numeric ? ":" : "").append(" |");
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    private static void appendRow(StringBuilder sb, String[] row, int[] width) {
        sb.append('|');
        for (int c = 0; c < row.length; c++) {
            boolean leftAligned = c == 0 || c == 3 || c == 5;
            String cell = row[c];
            String pad = " ".repeat(width[c] - cell.length());
            sb.append(' ').append(leftAligned ? cell + pad : pad + cell).append(" |");
        }
        sb.append('\n');
    }

    static String json(List<BenchCommand.Result> results) {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < results.size(); i++) {
            BenchCommand.Result r = results.get(i);
            sb.append(String.format(Locale.ROOT,
                    "  {\"model\": \"%s\", \"size_bytes\": %d, \"params\": %d, \"backend\": \"%s\", \"threads\": %d, "
                            + "\"test\": \"%s\", \"tokens\": %d, \"runs\": %d, \"tokens_per_second\": %.4f, "
                            + "\"tokens_per_second_std\": %.4f, \"bytes_per_token\": %.1f}%s%n",
                    escape(r.model()), r.sizeBytes(), r.params(), r.backend(), r.threads(), r.test(), r.tokens(),
                    r.runs(), r.meanTokensPerSecond(), r.stdTokensPerSecond(), r.bytesPerToken(),
                    i + 1 < results.size() ? "," : ""));
        }
        return sb.append("]\n").toString();
    }

    private static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / (1024.0 * 1024.0));
    }

    private static String millions(long params) {
        return String.format(Locale.ROOT, "%.2f M", params / 1e6);
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') sb.append('\\').append(ch);
            else if (ch < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
            else sb.append(ch);
        }
        return sb.toString();
    }
}
