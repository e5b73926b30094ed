package dev.ffmllama.concurrency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ffmllama.GenerationLimits;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.SharedData;
import dev.ffmllama.kernels.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One {@link Model}, eight {@link Session}s generating in eight threads at once, give exactly the
 * tokens the same sessions give one after another: the weights (and the backend's kernels) are
 * shared read-only, and nothing of one session leaks into another. Half the jobs are greedy, half
 * sample with their own seed; every job has its own prompt.
 */
class ConcurrentSessionsTest {
    private static final int THREADS = 8;
    private static final int NEW_TOKENS = 96;
    private static final String[] PROMPTS = {"Once upon a time", "Lily and Tom went", "The little cat",
            "One day, a big dog", "The sun was", "Tim had a red ball", "In the park", "Sue liked to"};

    private record Job(String prompt, SessionOptions options) {
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void eightConcurrentSessionsMatchSequentialRuns(Backend backend) throws Exception {
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            SessionOptions base = SessionOptions.defaults().withBackend(backend);
            SessionOptions options = i % 2 == 0 ? base.greedy()
                    : base.withTemperature(0.9f).withTopP(0.9f).withSeed(1000 + i);
            jobs.add(new Job(PROMPTS[i], options));
        }
        GenerationLimits limits = new GenerationLimits(NEW_TOKENS, false);
        try (Model model = Model.load(SharedData.model("stories260K.bin"), SharedData.model("tok512.bin"))) {
            int[][] sequential = new int[THREADS][];
            for (int i = 0; i < THREADS; i++) {
                try (Session s = model.newSession(jobs.get(i).options())) {
                    sequential[i] = s.generate(jobs.get(i).prompt(), limits, (t, p) -> true).tokens();
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                for (int round = 0; round < 3; round++) {
                    CyclicBarrier start = new CyclicBarrier(THREADS);
                    List<Future<int[]>> futures = new ArrayList<>();
                    for (Job job : jobs) {
                        futures.add(pool.submit(() -> {
                            try (Session s = model.newSession(job.options())) {
                                start.await(30, TimeUnit.SECONDS); // all threads decode at the same time
                                return s.generate(job.prompt(), limits, (t, p) -> true).tokens();
                            }
                        }));
                    }
                    for (int i = 0; i < THREADS; i++) {
                        int[] concurrent = futures.get(i).get(120, TimeUnit.SECONDS);
                        assertEquals(sequential[i].length, concurrent.length, "job " + i);
                        assertArrayEquals(sequential[i], concurrent, "job " + i + " (" + jobs.get(i) + "), round " + round);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
