package dev.ffmllama.kernels;

/**
 * The order of one layer's KV cache ({@code ffm_kv_order} in {@code native/include/ffmllama.h}), for a
 * cache allocated for {@code capacity} positions of {@code nKvHeads} heads of {@code headSize} values.
 */
public enum KvOrder {
    /** {@code [capacity][nKvHeads * headSize]}: one position's keys of every head together (llama2.c). */
    TOKEN_MAJOR,
    /** {@code [nKvHeads][capacity][headSize]}: one head's keys of every position together. */
    HEAD_MAJOR;

    /** Element offset of kv head {@code kvHead} at {@code position} in a cache of {@code capacity} positions. */
    public long offset(long position, long kvHead, long nKvHeads, long headSize, long capacity) {
        return this == TOKEN_MAJOR
                ? (position * nKvHeads + kvHead) * headSize
                : (kvHead * capacity + position) * headSize;
    }
}
