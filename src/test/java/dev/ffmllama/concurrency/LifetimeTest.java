package dev.ffmllama.concurrency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.GenerationLimits;
import dev.ffmllama.GenerationResult;
import dev.ffmllama.Model;
import dev.ffmllama.Session;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.SharedData;
import dev.ffmllama.TokenListener;
import dev.ffmllama.kernels.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Use after close, and close during use, from the same thread or another: every outcome is either
 * a normal result or an {@link IllegalStateException}; memory is never freed under a running
 * forward pass (which would be a read of unmapped memory, i.e. a JVM crash, not a test failure).
 */
class LifetimeTest {
    private static final GenerationLimits LONG = new GenerationLimits(400, false);
    private static final int[] BOS = {1};

    private static Model load() {
        return Model.load(SharedData.model("stories260K.bin"), SharedData.model("tok512.bin"));
    }

    private static SessionOptions options(Backend backend) {
        return SessionOptions.defaults().withBackend(backend).greedy();
    }

    @Test
    void closedSessionRefusesEveryUse() {
        try (Model model = load()) {
            Session session = model.newSession(options(Backend.NATIVE));
            session.close();
            session.close(); // idempotent
            assertClosed("session is closed", () -> session.generate(BOS, LONG, (t, p) -> true));
            assertClosed("session is closed", () -> session.generate("Hi", LONG, (t, p) -> true));
            assertClosed("session is closed", () -> session.logits(new int[] {1, 2}));
            // the model is untouched
            try (Session other = model.newSession(options(Backend.NATIVE))) {
                assertEquals(5, other.generate(BOS, new GenerationLimits(5, false), (t, p) -> true).generatedTokens());
            }
        }
    }

    @Test
    void closedModelRefusesEveryUse() {
        Model model = load();
        Session session = model.newSession(options(Backend.NATIVE));
        model.close();
        model.close(); // idempotent
        assertClosed("is closed", () -> model.newSession(options(Backend.NATIVE)));
        assertClosed("is closed", () -> session.generate(BOS, LONG, (t, p) -> true));
        assertClosed("is closed", () -> session.logits(new int[] {1}));
        session.close(); // still frees its own buffers cleanly
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void listenerClosingTheModelFromAnotherThreadFailsTheGenerationCleanly(Backend backend) throws Exception {
        Model model = load();
        try (Session session = model.newSession(options(backend))) {
            AtomicInteger seen = new AtomicInteger();
            TokenListener closeAtFifth = (token, pos) -> {
                if (seen.incrementAndGet() == 5) {
                    Thread closer = new Thread(model::close);
                    closer.start();
                    join(closer); // the listener runs outside any step, so close() does not wait for us
                }
                return true;
            };
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> session.generate(BOS, LONG, closeAtFifth));
            assertTrue(e.getMessage().contains("model was closed during generation"), e.getMessage());
            assertEquals(5, seen.get(), "tokens delivered before the close took effect");
            assertClosed("is closed", () -> model.newSession(options(backend)));
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void listenerClosingItsOwnSessionOrModelInTheSameThread(Backend backend) {
        try (Model model = load()) {
            Session session = model.newSession(options(backend));
            TokenListener closeSession = (token, pos) -> {
                session.close();
                return true;
            };
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> session.generate(BOS, LONG, closeSession));
            assertTrue(e.getMessage().contains("session was closed during generation"), e.getMessage());
        }
        Model model = load();
        try (Session session = model.newSession(options(backend))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> session.generate(BOS, LONG, (token, pos) -> {
                        model.close();
                        return true;
                    }));
            assertTrue(e.getMessage().contains("model was closed during generation"), e.getMessage());
        }
    }

    /**
     * Another thread closes the session (or the model) after a random delay, so the close lands at
     * random points: inside a prefill, inside a decode step, between steps, or after the end.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void closingFromAnotherThreadAtRandomMomentsNeverCrashes(Backend backend) throws Exception {
        int[] longPrompt = new int[300];
        for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = i == 0 ? 1 : 3 + (i * 37) % 500;
        int closedMidway = 0;
        int completed = 0;
        for (int round = 0; round < 16; round++) {
            boolean closeModel = round % 2 == 1;
            int[] prompt = round % 3 == 0 ? longPrompt : BOS;
            Model model = load();
            Session session = model.newSession(options(backend));
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread generator = new Thread(() -> {
                started.countDown();
                try {
                    outcome.set(session.generate(prompt, LONG, (t, p) -> true));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            generator.start();
            started.await();
            Thread.sleep(0, ThreadLocalRandom.current().nextInt(0, 999_999));
            if (round % 4 >= 2) Thread.sleep(ThreadLocalRandom.current().nextInt(1, 20));
            if (closeModel) model.close(); else session.close();
            generator.join(60_000);
            assertFalse(generator.isAlive(), "generation hangs after close");
            Object result = outcome.get();
            if (result instanceof GenerationResult) {
                completed++;
            } else if (result instanceof IllegalStateException e && e.getMessage().contains("closed")) {
                closedMidway++;
            } else {
                throw new AssertionError("unexpected outcome of a close during generation: " + result,
                        result instanceof Throwable t ? t : null);
            }
            session.close();
            model.close();
        }
        System.out.printf("%s: %d closes landed mid-generation, %d generations completed first%n", backend,
                closedMidway, completed);
        assertTrue(closedMidway > 0, "no close landed during a generation (" + completed + " completed first)");
    }

    @Test
    void oneSessionRefusesASecondConcurrentGeneration() throws Exception {
        try (Model model = load(); Session session = model.newSession(options(Backend.NATIVE))) {
            CountDownLatch inListener = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<GenerationResult> first = pool.submit(() -> session.generate(BOS, new GenerationLimits(3, false),
                        (t, p) -> {
                            inListener.countDown();
                            await(release);
                            return true;
                        }));
                assertTrue(inListener.await(30, TimeUnit.SECONDS));
                assertClosedOrBusy(() -> session.generate(BOS, LONG, (t, p) -> true));
                assertClosedOrBusy(() -> session.logits(new int[] {1}));
                release.countDown();
                assertEquals(3, first.get(30, TimeUnit.SECONDS).generatedTokens());
            } finally {
                release.countDown();
                pool.shutdownNow();
            }
            List<Integer> nested = new ArrayList<>();
            assertClosedOrBusy(() -> session.generate(BOS, LONG, (t, p) -> {
                nested.add(t);
                session.generate(BOS, LONG, (t2, p2) -> true); // re-entrant use from the listener
                return true;
            }));
            assertEquals(1, nested.size());
            // after all that the session still works
            assertEquals(4, session.generate(BOS, new GenerationLimits(4, false), (t, p) -> true).generatedTokens());
        }
    }

    private static void assertClosedOrBusy(org.junit.jupiter.api.function.Executable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertTrue(e.getMessage().contains("already generating"), e.getMessage());
    }

    private static void assertClosed(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
