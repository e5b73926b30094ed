package dev.ffmllama.kernels;

/**
 * Straightforward float64 implementations of every kernel, written from the formulas in
 * {@code native/include/ffmllama.h}: the oracle the contract tests compare all backends against.
 * Nullable weight/bias arrays mean 1 and 0. Public for the CLI tests.
 */
public final class Reference {
    private Reference() {
    }

    public static double[] rmsnorm(float[] x, float[] w, int rows, int d, double eps, double weightOffset) {
        double[] y = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double) x[r * d + i] * x[r * d + i];
            double inv = 1 / Math.sqrt(ss / d + eps);
            for (int i = 0; i < d; i++) y[r * d + i] = x[r * d + i] * inv * (weightOffset + w[i]);
        }
        return y;
    }

    public static double[] layernorm(double[] x, float[] w, float[] b, int rows, int d, double eps) {
        double[] y = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < d; i++) mean += x[r * d + i];
            mean /= d;
            double var = 0;
            for (int i = 0; i < d; i++) var += (x[r * d + i] - mean) * (x[r * d + i] - mean);
            var /= d;
            for (int i = 0; i < d; i++) {
                y[r * d + i] = (x[r * d + i] - mean) / Math.sqrt(var + eps) * weight(w, i) + bias(b, i);
            }
        }
        return y;
    }

    /** alpha * x + f element-wise, in double (alpha = 1: the residual add). */
    public static double[] scaledAdd(double alpha, float[] x, float[] f) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = alpha * x[i] + f[i];
        return out;
    }

    public static double[] toDouble(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i];
        return out;
    }

    /** A float vector rounded the way a float kernel would store it (for inputs built from float sums). */
    public static float[] toFloat(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) x[i];
        return out;
    }

    public static double[] batchnormInfer(float[] x, float[] mean, float[] var, float[] gamma, float[] beta,
                                          int rows, int d, double eps) {
        double[] y = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                y[r * d + j] = (x[r * d + j] - (double) mean[j]) / Math.sqrt(var[j] + eps) * weight(gamma, j)
                        + bias(beta, j);
            }
        }
        return y;
    }

    /** Returns {y, new running_mean, new running_var}. */
    public static double[][] batchnormTrain(float[] x, float[] gamma, float[] beta, float[] runningMean,
                                            float[] runningVar, int rows, int d, double eps, double momentum) {
        double[] y = new double[rows * d];
        double[] newMean = new double[d];
        double[] newVar = new double[d];
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int r = 0; r < rows; r++) mean += x[r * d + j];
            mean /= rows;
            double ss = 0;
            for (int r = 0; r < rows; r++) ss += (x[r * d + j] - mean) * (x[r * d + j] - mean);
            for (int r = 0; r < rows; r++) {
                y[r * d + j] = (x[r * d + j] - mean) / Math.sqrt(ss / rows + eps) * weight(gamma, j) + bias(beta, j);
            }
            newMean[j] = (1 - momentum) * runningMean[j] + momentum * mean;
            newVar[j] = (1 - momentum) * runningVar[j] + momentum * ss / (rows - 1);
        }
        return new double[][] {y, newMean, newVar};
    }

    public static double[] softmax(float[] x, int rows, int d) {
        double[] y = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < d; i++) max = Math.max(max, x[r * d + i]);
            double sum = 0;
            for (int i = 0; i < d; i++) sum += Math.exp(x[r * d + i] - max);
            for (int i = 0; i < d; i++) y[r * d + i] = Math.exp(x[r * d + i] - max) / sum;
        }
        return y;
    }

    public static double[] siluMul(float[] gate, float[] up) {
        double[] out = new double[gate.length];
        for (int i = 0; i < gate.length; i++) out[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
        return out;
    }

    public static double[] rope(float[] x, int rows, int nHeads, int headSize, int pos0, double theta) {
        double[] y = toDouble(x);
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < nHeads; h++) {
                for (int i = 0; i < headSize; i += 2) {
                    double angle = (pos0 + r) * Math.pow(theta, -(double) i / headSize);
                    int at = (r * nHeads + h) * headSize + i;
                    y[at] = x[at] * Math.cos(angle) - x[at + 1] * Math.sin(angle);
                    y[at + 1] = x[at] * Math.sin(angle) + x[at + 1] * Math.cos(angle);
                }
            }
        }
        return y;
    }

    public static double[] attention(float[] q, float[] k, float[] v, int rows, int pos0, int nHeads, int nKvHeads,
                              int headSize) {
        double[] out = new double[rows * nHeads * headSize];
        int group = nHeads / nKvHeads;
        for (int r = 0; r < rows; r++) {
            int positions = pos0 + r + 1;
            for (int h = 0; h < nHeads; h++) {
                int kvh = h / group;
                double[] scores = new double[positions];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < positions; t++) {
                    double s = 0;
                    for (int i = 0; i < headSize; i++) {
                        s += (double) q[(r * nHeads + h) * headSize + i] * k[(t * nKvHeads + kvh) * headSize + i];
                    }
                    scores[t] = s / Math.sqrt(headSize);
                    max = Math.max(max, scores[t]);
                }
                double sum = 0;
                for (int t = 0; t < positions; t++) sum += scores[t] = Math.exp(scores[t] - max);
                for (int t = 0; t < positions; t++) {
                    for (int i = 0; i < headSize; i++) {
                        out[(r * nHeads + h) * headSize + i] += scores[t] / sum * v[(t * nKvHeads + kvh) * headSize + i];
                    }
                }
            }
        }
        return out;
    }

    /** y[rows, out] = x[rows, in] · Wᵀ with W [out, in]. */
    public static double[] matmul(float[] w, float[] x, int rows, int in, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += (double) x[r * in + i] * w[o * in + i];
                y[r * out + o] = s;
            }
        }
        return y;
    }

    private static double weight(float[] w, int i) {
        return w == null ? 1 : w[i];
    }

    private static double bias(float[] b, int i) {
        return b == null ? 0 : b[i];
    }
}
