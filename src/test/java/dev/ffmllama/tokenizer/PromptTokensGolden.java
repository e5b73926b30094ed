package dev.ffmllama.tokenizer;

import dev.ffmllama.format.SharedFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

/** The rows of {@code golden/llama2c/prompt_tokens.tsv}: run.c's {@code encode(bos=1, eos=0)} ids. */
record PromptTokensGolden(String tokenizer, int vocab, String prompt, int[] ids) {

    static List<PromptTokensGolden> rows() {
        try {
            List<String> lines = Files.readAllLines(SharedFiles.golden("llama2c/prompt_tokens.tsv"), StandardCharsets.UTF_8);
            return lines.stream().skip(1).filter(l -> !l.isBlank()).map(PromptTokensGolden::parse).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<PromptTokensGolden> rows(String tokenizer) {
        return rows().stream().filter(r -> r.tokenizer.equals(tokenizer)).toList();
    }

    private static PromptTokensGolden parse(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 4) throw new IllegalStateException("bad golden row: " + line);
        int[] ids = Arrays.stream(f[3].trim().split(" ")).mapToInt(Integer::parseInt).toArray();
        return new PromptTokensGolden(f[0], Integer.parseInt(f[1]), jsonString(f[2]), ids);
    }

    /** Decodes a JSON string literal (quotes, \\n, \\", \\\\, \\/, \\b, \\f, \\r, \\t, \\uXXXX incl. surrogate pairs). */
    static String jsonString(String literal) {
        if (literal.length() < 2 || literal.charAt(0) != '"' || literal.charAt(literal.length() - 1) != '"') {
            throw new IllegalArgumentException("not a JSON string: " + literal);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < literal.length() - 1; i++) {
            char c = literal.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = literal.charAt(++i);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case '"', '\\', '/' -> sb.append(e);
                case 'u' -> {
                    sb.append((char) Integer.parseInt(literal.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> throw new IllegalArgumentException("bad escape \\" + e + " in " + literal);
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return tokenizer + " " + prompt.replace("\n", "\\n");
    }
}
