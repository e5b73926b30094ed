package dev.ffmllama;

import dev.ffmllama.kernels.Backend;
import dev.ffmllama.layout.Layout;

/**
 * Settings of a {@link Session}. Defaults follow llama2.c: temperature 1.0, top-p 0.9, no top-k.
 *
 * @param backend       which kernels run the forward pass
 * @param threads       threads of the forward pass: OpenBLAS threads for the native backend's linear layers;
 *                      for vector and java, the session's own worker threads (threads - 1 plus the
 *                      caller) splitting matmul rows and attention heads
 * @param temperature   0 = greedy
 * @param topP          nucleus sampling mass; >= 1 disables it
 * @param topK          keep the k most likely tokens; 0 disables it
 * @param seed          sampling seed: the same seed gives the same text
 * @param contextLength positions the KV cache holds; 0 = the model's context length
 * @param prefillBatch  prompt tokens processed per forward pass (batched prefill)
 * @param layout        the KV cache's layout: the cache keys of a {@link Layout} (kv, kv-type, hugepages); the
 *                      weight keys belong to {@link LoadOptions#withLayout}
 */
public record SessionOptions(Backend backend, int threads, float temperature, float topP, int topK, long seed,
                             int contextLength, int prefillBatch, Layout layout) {

    public SessionOptions {
        if (backend == null) throw new IllegalArgumentException("backend is required");
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP >= 0) || Float.isInfinite(topP)) {
            throw new IllegalArgumentException("top-p must be between 0 and 1, got " + topP);
        }
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (contextLength < 0) throw new IllegalArgumentException("context length must be >= 0, got " + contextLength);
        if (prefillBatch < 1) throw new IllegalArgumentException("prefill batch must be >= 1, got " + prefillBatch);
        if (layout == null) throw new IllegalArgumentException("layout is required (Layout.defaults())");
        if (layout.hasWeightKeys()) {
            throw new IllegalArgumentException("layout " + layout + " sets weight keys (qkv, ffn, matrix, align): pass "
                    + "those in LoadOptions.withLayout (Layout.weightPart()), the KV-cache keys here (Layout.cachePart())");
        }
    }

    /** Native backend, 1 thread, temperature 1, top-p 0.9, seed from the clock. */
    public static SessionOptions defaults() {
        return new SessionOptions(Backend.NATIVE, 1, 1.0f, 0.9f, 0, System.nanoTime(), 0, 64, Layout.defaults());
    }

    public SessionOptions withBackend(Backend b) {
        return new SessionOptions(b, threads, temperature, topP, topK, seed, contextLength, prefillBatch, layout);
    }

    public SessionOptions withThreads(int n) {
        return new SessionOptions(backend, n, temperature, topP, topK, seed, contextLength, prefillBatch, layout);
    }

    /** Temperature 0: always the most likely token. */
    public SessionOptions greedy() {
        return withTemperature(0f);
    }

    public SessionOptions withTemperature(float t) {
        return new SessionOptions(backend, threads, t, topP, topK, seed, contextLength, prefillBatch, layout);
    }

    public SessionOptions withTopP(float p) {
        return new SessionOptions(backend, threads, temperature, p, topK, seed, contextLength, prefillBatch, layout);
    }

    public SessionOptions withTopK(int k) {
        return new SessionOptions(backend, threads, temperature, topP, k, seed, contextLength, prefillBatch, layout);
    }

    public SessionOptions withSeed(long s) {
        return new SessionOptions(backend, threads, temperature, topP, topK, s, contextLength, prefillBatch, layout);
    }

    public SessionOptions withContextLength(int n) {
        return new SessionOptions(backend, threads, temperature, topP, topK, seed, n, prefillBatch, layout);
    }

    /** The KV-cache layout (see {@link Layout#cachePart()}). */
    public SessionOptions withLayout(Layout l) {
        return new SessionOptions(backend, threads, temperature, topP, topK, seed, contextLength, prefillBatch, l);
    }

    public SessionOptions withPrefillBatch(int n) {
        return new SessionOptions(backend, threads, temperature, topP, topK, seed, contextLength, n, layout);
    }
}
