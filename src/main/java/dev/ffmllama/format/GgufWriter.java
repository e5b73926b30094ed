package dev.ffmllama.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Writes a GGUF v3 file (little-endian): metadata entries in the order they were put, then the
 * tensor table, then every tensor's bytes at offsets aligned to {@code general.alignment} (32
 * unless that key is put). Values use the reader's representation ({@link GgufMetadata}: integers
 * as {@code Long}, FLOAT32 as {@code Float}, FLOAT64 as {@code Double}, BOOL as {@code Boolean},
 * STRING as UTF-8 {@code byte[]}, arrays as {@link GgufArray}), so whatever {@link GgufFile} reads
 * can be written back unchanged ({@link #copyMetadata}, {@link #copyTensors}).
 *
 * <p>Tensor data is referenced, not copied, until {@link #write}: segments passed to
 * {@link #tensor(String, GgmlType, long[], MemorySegment)} must stay alive until then.
 */
public final class GgufWriter {
    private static final int VERSION = 3;
    private static final String ALIGNMENT_KEY = "general.alignment";

    private record Entry(GgufValueType type, Object value) {
    }

    private record PendingTensor(String name, GgmlType type, long[] ne, MemorySegment data) {
    }

    private final Map<String, Entry> metadata = new LinkedHashMap<>();
    private final Map<String, PendingTensor> tensors = new LinkedHashMap<>();

    /** Puts a value of any type, in the reader's representation (see the class comment). */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("metadata key must not be empty");
        checkValue(key, type, value);
        if (metadata.putIfAbsent(key, new Entry(type, value)) != null) {
            throw new IllegalArgumentException("metadata key '" + key + "' is already set");
        }
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value.getBytes(StandardCharsets.UTF_8));
    }

    public GgufWriter putUint32(String key, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) throw new IllegalArgumentException(key + " = " + value + " is not a uint32");
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, GgufValueType.INT32, (long) value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    /** An array of UTF-8 strings given as raw bytes. */
    public GgufWriter putStrings(String key, byte[][] values) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, values.clone(), values.length));
    }

    public GgufWriter putFloats(String key, float[] values) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT32, values.clone(), values.length));
    }

    /** An array of integers of {@code elementType} (INT32, UINT32, ...). */
    public GgufWriter putIntegers(String key, GgufValueType elementType, long[] values) {
        if (!elementType.isInteger()) throw new IllegalArgumentException(elementType + " is not an integer type");
        return put(key, GgufValueType.ARRAY, new GgufArray(elementType, values.clone(), values.length));
    }

    /** Tensor data alignment, written as {@code general.alignment} (a power of two). */
    public GgufWriter alignment(int bytes) {
        if (bytes <= 0 || Integer.bitCount(bytes) != 1) {
            throw new IllegalArgumentException("alignment " + bytes + " is not a positive power of two");
        }
        return putUint32(ALIGNMENT_KEY, bytes);
    }

    /** Copies every metadata entry of {@code md} whose key {@code keys} accepts, in file order, with its type. */
    public GgufWriter copyMetadata(GgufMetadata md, Predicate<String> keys) {
        for (String key : md.keys()) {
            if (keys.test(key)) put(key, md.type(key), md.raw(key));
        }
        return this;
    }

    /** Adds every tensor of {@code file} (as views of its mapping: keep it open until {@link #write}). */
    public GgufWriter copyTensors(GgufFile file) {
        for (GgufTensorInfo t : file.tensorInfos()) {
            tensors.put(t.name(), new PendingTensor(t.name(), t.type(), t.ne(), file.tensorData(t)));
        }
        return this;
    }

    /**
     * Adds a tensor with its row-major {@code shape} (slowest dimension first, as
     * {@link dev.ffmllama.tensor.Tensor}; the file stores it reversed as {@code ne}) and raw bytes,
     * whose size must match the type and shape.
     */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must not be empty");
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor " + name + " is already added");
        if (shape.length > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + " has " + shape.length + " dimensions (at most "
                    + GgufParser.MAX_DIMS + ")");
        }
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(shape));
            ne[i] = shape[shape.length - 1 - i];
        }
        long expected = type.byteSize(ne);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + " " + type + " " + Arrays.toString(shape) + " needs "
                    + expected + " bytes, got " + data.byteSize());
        }
        tensors.put(name, new PendingTensor(name, type, ne, data));
        return this;
    }

    /** Adds an F32 tensor holding a copy of {@code values}, row-major {@code shape}. */
    public GgufWriter tensor(String name, float[] values, long... shape) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return tensor(name, GgmlType.F32, shape, MemorySegment.ofArray(bytes.array()));
    }

    /** Writes the file (replacing {@code path}). */
    public void write(Path path) throws IOException {
        int alignment = alignmentValue();
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        header.writeBytes(le(4).putInt(VERSION).array());
        header.writeBytes(le(8).putLong(tensors.size()).array());
        header.writeBytes(le(8).putLong(metadata.size()).array());
        for (Map.Entry<String, Entry> e : metadata.entrySet()) {
            writeString(header, e.getKey().getBytes(StandardCharsets.UTF_8));
            header.writeBytes(le(4).putInt(e.getValue().type().ordinal()).array());
            writeValue(header, e.getValue().type(), e.getValue().value());
        }
        List<Long> offsets = new ArrayList<>();
        long offset = 0;
        for (PendingTensor t : tensors.values()) {
            writeString(header, t.name().getBytes(StandardCharsets.UTF_8));
            ByteBuffer info = le(4 + 8L * t.ne().length + 4 + 8).putInt(t.ne().length);
            for (long d : t.ne()) info.putLong(d);
            header.writeBytes(info.putInt(t.type().id()).putLong(offset).array());
            offsets.add(offset);
            offset = alignUp(offset + t.data().byteSize(), alignment);
        }
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, ByteBuffer.wrap(header.toByteArray()));
            long dataStart = alignUp(header.size(), alignment);
            padTo(out, dataStart);
            int i = 0;
            for (PendingTensor t : tensors.values()) {
                padTo(out, dataStart + offsets.get(i++));
                writeFully(out, t.data().asByteBuffer());
            }
            // llama.cpp's writer pads the last tensor too, so the file size is a multiple of the alignment.
            padTo(out, alignUp(out.position(), alignment));
        }
    }

    private int alignmentValue() {
        Entry e = metadata.get(ALIGNMENT_KEY);
        if (e == null) return GgufParser.DEFAULT_ALIGNMENT;
        if (!e.type().isInteger()) throw new IllegalStateException(ALIGNMENT_KEY + " has type " + e.type());
        long a = (Long) e.value();
        if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
            throw new IllegalStateException(ALIGNMENT_KEY + " = " + a + " is not a positive power of two");
        }
        return (int) a;
    }

    private static void checkValue(String key, GgufValueType type, Object value) {
        Class<?> expected = switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> Long.class;
            case FLOAT32 -> Float.class;
            case FLOAT64 -> Double.class;
            case BOOL -> Boolean.class;
            case STRING -> byte[].class;
            case ARRAY -> GgufArray.class;
        };
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException("metadata " + key + " of type " + type + " needs a " + expected.getSimpleName()
                    + ", got " + (value == null ? "null" : value.getClass().getSimpleName()));
        }
    }

    private static void writeValue(ByteArrayOutputStream out, GgufValueType type, Object value) {
        switch (type) {
            case UINT8, INT8 -> out.write((int) (long) (Long) value);
            case BOOL -> out.write((Boolean) value ? 1 : 0);
            case UINT16, INT16 -> out.writeBytes(le(2).putShort((short) (long) (Long) value).array());
            case UINT32, INT32 -> out.writeBytes(le(4).putInt((int) (long) (Long) value).array());
            case UINT64, INT64 -> out.writeBytes(le(8).putLong((Long) value).array());
            case FLOAT32 -> out.writeBytes(le(4).putFloat((Float) value).array());
            case FLOAT64 -> out.writeBytes(le(8).putDouble((Double) value).array());
            case STRING -> writeString(out, (byte[]) value);
            case ARRAY -> writeArray(out, (GgufArray) value);
        }
    }

    private static void writeArray(ByteArrayOutputStream out, GgufArray array) {
        GgufValueType t = array.elementType();
        out.writeBytes(le(12).putInt(t.ordinal()).putLong(array.length()).array());
        switch (t) {
            case FLOAT32 -> {
                for (float v : array.floats()) writeValue(out, t, v);
            }
            case FLOAT64 -> {
                for (double v : (double[]) array.elements()) writeValue(out, t, v);
            }
            case BOOL -> {
                for (boolean v : array.booleans()) writeValue(out, t, v);
            }
            case STRING -> {
                for (byte[] v : array.rawStrings()) writeString(out, v);
            }
            case ARRAY -> {
                for (GgufArray v : array.arrays()) writeArray(out, v);
            }
            default -> {
                for (long v : array.longs()) writeValue(out, t, v);
            }
        }
    }

    private static void writeString(ByteArrayOutputStream out, byte[] utf8) {
        out.writeBytes(le(8).putLong(utf8.length).array());
        out.writeBytes(utf8);
    }

    private static void padTo(FileChannel out, long position) throws IOException {
        long gap = position - out.position();
        if (gap < 0) throw new IllegalStateException("write position " + out.position() + " is past " + position);
        if (gap > 0) writeFully(out, ByteBuffer.allocate((int) gap));
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) out.write(b);
    }

    private static long alignUp(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private static ByteBuffer le(long size) {
        return ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
