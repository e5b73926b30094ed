package dev.ffmllama.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional array in off-heap memory: a {@link MemorySegment} plus dtype, shape and strides
 * (in elements). Tensors made by {@link #allocate(DType, long...)} own their {@link Arena} and free
 * it on {@link #close()}; tensors made in a caller's arena, wrapped around a segment, or taken as
 * views ({@link #slice}, {@link #row}, {@link #reshape}) share memory and close nothing.
 *
 * <p>The segment of a tensor spans exactly the bytes its elements occupy, so every access stays
 * bounds-checked by FFM. Views are made once (for example when a model loads) and reused: the hot
 * path creates no tensors.
 */
public final class Tensor implements AutoCloseable {
    /** Alignment of every allocation: one cache line, and a full AVX-512 register. */
    public static final long ALIGNMENT = 64;

    private final MemorySegment segment;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final Arena ownedArena;

    private Tensor(MemorySegment segment, DType dtype, long[] shape, long[] strides, Arena ownedArena) {
        this.segment = segment;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.ownedArena = ownedArena;
    }

    /** A zero-filled, 64-byte aligned tensor in its own arena; {@link #close()} frees it. */
    public static Tensor allocate(DType dtype, long... shape) {
        Arena arena = Arena.ofShared();
        try {
            return allocateIn(arena, dtype, shape, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A zero-filled, 64-byte aligned tensor in {@code arena}, which owns it. */
    public static Tensor allocate(Arena arena, DType dtype, long... shape) {
        return allocateIn(Objects.requireNonNull(arena, "arena"), dtype, shape, null);
    }

    private static Tensor allocateIn(Arena arena, DType dtype, long[] shape, Arena owned) {
        long[] dims = checkShape(shape);
        long bytes = Math.multiplyExact(elementCount(dims), (long) dtype.byteSize());
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes);
        return new Tensor(seg, dtype, dims, contiguousStrides(dims), owned);
    }

    /** A contiguous tensor over an existing segment, whose size must match the shape exactly. */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        Objects.requireNonNull(segment, "segment");
        long[] dims = checkShape(shape);
        long bytes = Math.multiplyExact(elementCount(dims), (long) dtype.byteSize());
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes does not hold a "
                    + dtype + " tensor of shape " + Arrays.toString(dims) + " (" + bytes + " bytes)");
        }
        return new Tensor(segment, dtype, dims, contiguousStrides(dims), null);
    }

    /** A float32 tensor holding a copy of {@code values} with the given shape (in its own arena). */
    public static Tensor ofFloats(float[] values, long... shape) {
        Tensor t = allocate(DType.F32, shape);
        if (t.elementCount() != values.length) {
            t.close();
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        }
        MemorySegment.copy(values, 0, t.segment, ValueLayout.JAVA_FLOAT, 0, values.length);
        return t;
    }

    public MemorySegment segment() {
        return segment;
    }

    public DType dtype() {
        return dtype;
    }

    public int rank() {
        return shape.length;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long dim(int i) {
        return shape[i];
    }

    public long[] strides() {
        return strides.clone();
    }

    public long elementCount() {
        return elementCount(shape);
    }

    /** The size of the last dimension: a row's length (1 for a scalar). */
    public long cols() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** The product of all dimensions but the last: the number of rows a row-batched kernel sees. */
    public long rows() {
        long r = 1;
        for (int i = 0; i < shape.length - 1; i++) r *= shape[i];
        return r;
    }

    /** True when elements are laid out row-major with no gaps. */
    public boolean isContiguous() {
        return Arrays.equals(strides, contiguousStrides(shape));
    }

    /** True while the memory behind this tensor is still open. */
    public boolean isAlive() {
        return segment.scope().isAlive();
    }

    /** Same elements with another shape of equal element count (contiguous tensors only). */
    public Tensor reshape(long... newShape) {
        requireContiguous("reshape");
        long[] dims = checkShape(newShape);
        if (elementCount(dims) != elementCount()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(dims));
        }
        return new Tensor(segment, dtype, dims, contiguousStrides(dims), null);
    }

    /** Rows {@code from} (inclusive) to {@code to} (exclusive) along the first dimension, without copying. */
    public Tensor slice(long from, long to) {
        requireContiguous("slice");
        if (shape.length == 0) throw new IllegalArgumentException("cannot slice a scalar");
        Objects.checkFromToIndex(from, to, shape[0]);
        long[] dims = shape.clone();
        dims[0] = to - from;
        long rowBytes = strides.length == 0 ? 0 : strides[0] * dtype.byteSize();
        MemorySegment seg = segment.asSlice(from * rowBytes, (to - from) * rowBytes);
        return new Tensor(seg, dtype, dims, contiguousStrides(dims), null);
    }

    /** Row {@code i} along the first dimension, with that dimension dropped. */
    public Tensor row(long i) {
        Tensor s = slice(i, i + 1);
        return s.reshape(Arrays.copyOfRange(shape, 1, shape.length));
    }

    /** Element at the given index (float32 tensors). */
    public float getFloat(long... index) {
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, offsetOf(index));
    }

    /** Sets the element at the given index (float32 tensors). */
    public void setFloat(float value, long... index) {
        segment.setAtIndex(ValueLayout.JAVA_FLOAT, offsetOf(index), value);
    }

    /** A heap copy of all elements in row-major order (float32, contiguous tensors). */
    public float[] toFloatArray() {
        requireDType(DType.F32);
        requireContiguous("toFloatArray");
        return segment.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Copies {@code values} into this tensor (float32, contiguous, same element count). */
    public void copyFrom(float[] values) {
        requireDType(DType.F32);
        requireContiguous("copyFrom");
        if (values.length != elementCount()) {
            throw new IllegalArgumentException(values.length + " values for a tensor of " + elementCount());
        }
        MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT, 0, values.length);
    }

    /** Frees the memory if this tensor owns its arena; otherwise does nothing. Idempotent. */
    @Override
    public void close() {
        if (ownedArena != null && ownedArena.scope().isAlive()) {
            ownedArena.close();
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + (isContiguous() ? "" : " strided") + "]";
    }

    private long offsetOf(long[] index) {
        requireDType(DType.F32);
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " for a tensor of rank " + shape.length);
        }
        long off = 0;
        for (int i = 0; i < index.length; i++) {
            off += Objects.checkIndex(index[i], shape[i]) * strides[i];
        }
        return off;
    }

    private void requireDType(DType expected) {
        if (dtype != expected) throw new IllegalArgumentException("tensor has dtype " + dtype + ", expected " + expected);
    }

    private void requireContiguous(String op) {
        if (!isContiguous()) throw new IllegalArgumentException(op + " needs a contiguous tensor, got " + this);
    }

    private static long[] checkShape(long[] shape) {
        long[] dims = shape.clone();
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
        }
        elementCount(dims);
        return dims;
    }

    private static long elementCount(long[] dims) {
        long n = 1;
        for (long d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    private static long[] contiguousStrides(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(dims[i], 1);
        }
        return s;
    }
}
