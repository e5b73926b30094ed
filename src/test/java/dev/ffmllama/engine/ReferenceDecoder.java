package dev.ffmllama.engine;

import dev.ffmllama.format.GgufFile;
import dev.ffmllama.format.GgufMetadata;
import dev.ffmllama.format.GgufTensorInfo;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * A deliberately plain float64 forward pass of a llama GGUF file with any normalization variant,
 * written from the equations in docs/normalization.md and reading the file with nothing but
 * {@link GgufFile}: the yardstick the real decoder is tested against. One token at a time, no
 * batching, no fusion, no shared code with the engine.
 */
final class ReferenceDecoder {
    private final GgufFile file;
    private final int dim, hidden, layers, heads, kvHeads, headSize, vocab;
    private final double eps, alpha, theta;
    private final boolean layerNorm;
    private final String placement;
    private final double[][][] keys, values; // [layer][pos][kvDim]
    private int pos;

    ReferenceDecoder(Path path, int maxPositions) throws IOException {
        file = GgufFile.open(path);
        GgufMetadata md = file.metadata();
        dim = md.getInt("llama.embedding_length");
        hidden = md.getInt("llama.feed_forward_length");
        layers = md.getInt("llama.block_count");
        heads = md.getInt("llama.attention.head_count");
        kvHeads = md.getInt("llama.attention.head_count_kv", heads);
        headSize = dim / heads;
        vocab = (int) file.tensorInfo("token_embd.weight").orElseThrow().shape()[0];
        layerNorm = md.getString("llama.norm_type", "rmsnorm").equals("layernorm");
        placement = md.getString("llama.norm_placement", "pre");
        eps = md.getFloat(layerNorm ? "llama.attention.layer_norm_epsilon" : "llama.attention.layer_norm_rms_epsilon",
                1e-5f);
        alpha = placement.equals("deepnorm") ? md.getFloat("llama.deepnorm_alpha") : 1.0;
        theta = md.getFloat("llama.rope.freq_base", 10000f);
        keys = new double[layers][maxPositions][];
        values = new double[layers][maxPositions][];
    }

    /** Feeds the next token and returns the logits after it. */
    double[] step(int token) {
        double[] x = row("token_embd.weight", token, dim);
        for (int l = 0; l < layers; l++) x = block(l, x);
        if (file.tensorInfo("output_norm.weight").isPresent()) x = norm("output_norm", x);
        String classifier = file.tensorInfo("output.weight").isPresent() ? "output.weight" : "token_embd.weight";
        double[] logits = matvec(classifier, x, vocab, dim);
        pos++;
        return logits;
    }

    private double[] block(int l, double[] x) {
        String b = "blk." + l + ".";
        switch (placement) {
            case "pre" -> {
                double[] h = add(x, attention(l, norm(b + "attn_norm", x)));
                return add(h, ffn(l, norm(b + "ffn_norm", h)));
            }
            case "post" -> {
                double[] h = norm(b + "attn_norm", add(x, attention(l, x)));
                return norm(b + "ffn_norm", add(h, ffn(l, h)));
            }
            case "deepnorm" -> {
                double[] h = norm(b + "attn_norm", add(scale(x, alpha), attention(l, x)));
                return norm(b + "ffn_norm", add(scale(h, alpha), ffn(l, h)));
            }
            case "sandwich" -> {
                double[] h = add(x, norm(b + "post_attention_norm", attention(l, norm(b + "attn_norm", x))));
                return add(h, norm(b + "post_ffw_norm", ffn(l, norm(b + "ffn_norm", h))));
            }
            default -> throw new IllegalArgumentException(placement);
        }
    }

    /** RMSNorm (x / sqrt(mean x² + eps) · w) or LayerNorm ((x − μ) / sqrt(var + eps) · w + b, biased var). */
    private double[] norm(String prefix, double[] x) {
        double[] w = vector(prefix + ".weight");
        double mean = 0;
        if (layerNorm) {
            for (double v : x) mean += v;
            mean /= dim;
        }
        double ms = 0;
        for (double v : x) ms += (v - mean) * (v - mean);
        ms /= dim;
        double inv = 1 / Math.sqrt(ms + eps);
        double[] bias = layerNorm ? vector(prefix + ".bias") : new double[dim];
        double[] y = new double[dim];
        for (int i = 0; i < dim; i++) y[i] = (x[i] - mean) * inv * w[i] + bias[i];
        return y;
    }

    private double[] attention(int l, double[] in) {
        String b = "blk." + l + ".";
        int kvDim = kvHeads * headSize;
        double[] q = rope(matvec(b + "attn_q.weight", in, dim, dim), heads);
        keys[l][pos] = rope(matvec(b + "attn_k.weight", in, kvDim, dim), kvHeads);
        values[l][pos] = matvec(b + "attn_v.weight", in, kvDim, dim);
        double[] out = new double[dim];
        for (int h = 0; h < heads; h++) {
            int kvh = h / (heads / kvHeads);
            double[] scores = new double[pos + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
                double s = 0;
                for (int i = 0; i < headSize; i++) s += q[h * headSize + i] * keys[l][t][kvh * headSize + i];
                scores[t] = s / Math.sqrt(headSize);
                max = Math.max(max, scores[t]);
            }
            double sum = 0;
            for (int t = 0; t <= pos; t++) sum += scores[t] = Math.exp(scores[t] - max);
            for (int t = 0; t <= pos; t++) {
                for (int i = 0; i < headSize; i++) out[h * headSize + i] += scores[t] / sum * values[l][t][kvh * headSize + i];
            }
        }
        return matvec(b + "attn_output.weight", out, dim, dim);
    }

    /** Interleaved-pair RoPE, as llama2.c. */
    private double[] rope(double[] v, int nHeads) {
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < headSize; i += 2) {
                double a = pos * Math.pow(theta, -(double) i / headSize);
                double x0 = v[h * headSize + i], x1 = v[h * headSize + i + 1];
                v[h * headSize + i] = x0 * Math.cos(a) - x1 * Math.sin(a);
                v[h * headSize + i + 1] = x0 * Math.sin(a) + x1 * Math.cos(a);
            }
        }
        return v;
    }

    private double[] ffn(int l, double[] in) {
        String b = "blk." + l + ".";
        double[] gate = matvec(b + "ffn_gate.weight", in, hidden, dim);
        double[] up = matvec(b + "ffn_up.weight", in, hidden, dim);
        for (int i = 0; i < hidden; i++) gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
        return matvec(b + "ffn_down.weight", gate, dim, hidden);
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    private static double[] scale(double[] a, double s) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] * s;
        return y;
    }

    /** W [out, in] (row-major, as GGUF stores ne = [in, out]) times x [in]. */
    private double[] matvec(String name, double[] x, int out, int in) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double[] w = row(name, o, in);
            double s = 0;
            for (int i = 0; i < in; i++) s += w[i] * x[i];
            y[o] = s;
        }
        return y;
    }

    private double[] vector(String name) {
        return row(name, 0, dim);
    }

    private double[] row(String name, long r, int length) {
        GgufTensorInfo info = file.tensorInfo(name).orElseThrow(() -> new IllegalArgumentException("no tensor " + name));
        var data = file.tensorData(info);
        double[] v = new double[length];
        for (int i = 0; i < length; i++) v[i] = data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, r * length + i);
        return v;
    }

    void close() {
        file.close();
    }
}
