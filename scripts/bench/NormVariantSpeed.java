import dev.ffmllama.GenerationLimits;
import dev.ffmllama.GenerationResult;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.format.NormSpec;
import dev.ffmllama.kernels.Backend;
import dev.ffmllama.synth.SynthSpec;
import dev.ffmllama.synth.SyntheticModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decode speed of every norm variant on one shape, relative to Pre-RMSNorm: synthesizes the eight
 * variants (same seed), warms each up, then measures rounds of 400 greedy tokens round-robin, rotating
 * the order each round (so machine noise and position effects hit every variant alike) and prints the median tok/s. Run by scripts/bench-norm-variants.
 *
 * args: backend dim hidden layers heads tokenizerPath [rounds]
 */
public class NormVariantSpeed {
    public static void main(String[] a) throws Exception {
        Backend backend = Backend.parse(a[0]);
        int dim = Integer.parseInt(a[1]), hidden = Integer.parseInt(a[2]), layers = Integer.parseInt(a[3]);
        int heads = Integer.parseInt(a[4]);
        Path tokenizer = Path.of(a[5]);
        int rounds = a.length > 6 ? Integer.parseInt(a[6]) : 7;
        Path dir = Files.createTempDirectory("norm-speed");
        List<String> names = new ArrayList<>();
        List<Model> models = new ArrayList<>();
        for (NormSpec.Placement p : NormSpec.Placement.values()) {
            for (NormSpec.Type t : NormSpec.Type.values()) {
                Path f = dir.resolve(p.key() + "-" + t.key() + ".gguf");
                SyntheticModel.write(new SynthSpec(dim, hidden, layers, heads, heads, 0, 512, NormSpec.of(t, p, layers), 1,
                        SynthSpec.DEFAULT_INIT_STD, 0), tokenizer, f);
                names.add(p.key() + "/" + t.key());
                models.add(Model.load(f));
            }
        }
        GenerationLimits limits = new GenerationLimits(400, false);
        int[] prompt = {1};
        double[][] tps = new double[models.size()][rounds];
        double[][] cpuTps = new double[models.size()][rounds];
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        List<Session> sessions = new ArrayList<>();
        for (Model m : models) sessions.add(m.newSession(SessionOptions.defaults().withBackend(backend).greedy()));
        for (int warm = 0; warm < 3; warm++) for (Session s : sessions) s.generate(prompt, limits, (t, p) -> true);
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < sessions.size(); j++) {
                int i = (j + r) % sessions.size(); // rotate the order: no variant always runs first
                long cpu0 = threads.getCurrentThreadCpuTime();
                GenerationResult res = sessions.get(i).generate(prompt, limits, (t, p) -> true);
                long cpu = threads.getCurrentThreadCpuTime() - cpu0;
                tps[i][r] = res.generationTokensPerSecond();
                // tokens per second of this thread's CPU time: robust when other processes share the cores
                cpuTps[i][r] = (res.promptTokens() + res.generatedTokens()) / (cpu / 1e9);
            }
        }
        System.out.printf("backend %s, dim %d, hidden %d, %d layers, %d heads: median of %d rounds x 400 tokens%n",
                backend.cliName(), dim, hidden, layers, heads, rounds);
        System.out.printf("  %-20s %12s %8s %14s %8s%n", "variant", "wall tok/s", "vs pre", "CPU-time tok/s", "vs pre");
        int pre = names.indexOf("pre/rmsnorm");
        double base = median(tps[pre]), cpuBase = median(cpuTps[pre]);
        for (int i = 0; i < names.size(); i++) {
            double m = median(tps[i]), c = median(cpuTps[i]);
            System.out.printf("  %-20s %12.1f %7.1f%% %14.1f %7.1f%%%n", names.get(i), m, 100 * m / base, c, 100 * c / cpuBase);
        }
        for (Session s : sessions) s.close();
        for (Model m : models) m.close();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
