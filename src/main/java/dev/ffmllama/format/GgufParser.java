package dev.ffmllama.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Parses the header, metadata and tensor table of a GGUF v2/v3 file (little-endian). Every count and
 * length is checked against the bytes that remain before anything is sized from it, so a corrupt or
 * hostile file gives a {@link ModelFormatException} naming the field, never an OutOfMemoryError.
 */
final class GgufParser {
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    /** Nested arrays deeper than this are refused (no legitimate file nests more than once or twice). */
    private static final int MAX_ARRAY_DEPTH = 8;
    private static final byte[] MAGIC = {'G', 'G', 'U', 'F'};
    /** Fewest bytes a tensor-table entry takes: name length, n_dims, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
    /** Fewest bytes a metadata entry takes: key length, value type, a one-byte value. */
    private static final int MIN_KV_BYTES = 8 + 4 + 1;

    /** What the header and tables say; the data section starts at {@code dataOffset} in the file. */
    record Parsed(int version, GgufMetadata metadata, List<GgufTensorInfo> tensors, int alignment, long dataOffset) {
    }

    private final MemorySegment file;
    private final BoundedReader in;
    private final String source;

    private GgufParser(MemorySegment file, String source) {
        this.file = file;
        this.in = new BoundedReader(file, source);
        this.source = source;
    }

    /** Whether the file starts with the GGUF magic. */
    static boolean hasMagic(MemorySegment file) {
        if (file.byteSize() < MAGIC.length) return false;
        for (int i = 0; i < MAGIC.length; i++) {
            if (file.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) return false;
        }
        return true;
    }

    static Parsed parse(MappedFile file) {
        return new GgufParser(file.segment(), file.source()).parse();
    }

    private Parsed parse() {
        if (!hasMagic(file)) {
            throw new ModelFormatException(source + ": not a GGUF file (the first 4 bytes are not \"GGUF\")");
        }
        in.skip(MAGIC.length, "magic");
        int version = readVersion();
        long tensorCount = in.i64("tensor count");
        long kvCount = in.i64("metadata entry count");
        checkCount(kvCount, MIN_KV_BYTES, "metadata entry count");
        checkCount(tensorCount, MIN_TENSOR_INFO_BYTES, "tensor count");

        GgufMetadata metadata = new GgufMetadata(source);
        for (long i = 0; i < kvCount; i++) {
            String key = utf8(readString("key of metadata entry #" + i));
            long typeId = Integer.toUnsignedLong(in.i32("type of metadata " + key));
            GgufValueType type = valueType(typeId, "metadata " + key);
            metadata.put(key, type, readValue(type, "metadata " + key, 0));
        }
        int alignment = alignment(metadata);

        List<GgufTensorInfo> infos = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            GgufTensorInfo info = readTensorInfo(i, alignment);
            if (!names.add(info.name())) {
                throw new ModelFormatException(source + ": tensor " + info.name() + " appears twice");
            }
            infos.add(info);
        }

        long dataOffset = alignUp(in.position(), alignment);
        checkTensorExtents(infos, dataOffset);
        return new Parsed(version, metadata, List.copyOf(infos), alignment, dataOffset);
    }

    private int readVersion() {
        int version = in.i32("version");
        if (version == 2 || version == 3) return version;
        if (version == 1) {
            throw new ModelFormatException(source + ": GGUF version 1 is not supported (only versions 2 and 3); "
                    + "re-convert the model with a current llama.cpp");
        }
        int swapped = Integer.reverseBytes(version);
        String hint = swapped == 2 || swapped == 3 ? " (a big-endian GGUF file? only little-endian is supported)" : "";
        throw new ModelFormatException(source + ": GGUF version " + Integer.toUnsignedString(version)
                + " is not supported (only versions 2 and 3)" + hint);
    }

    /** Rejects counts that could not fit in the rest of the file even at the smallest entry size. */
    private void checkCount(long count, int minBytesEach, String what) {
        long room = in.remaining() / minBytesEach;
        if (count < 0 || count > room) {
            throw new ModelFormatException(source + ": header " + what + " is " + Long.toUnsignedString(count)
                    + " but the rest of the file has room for at most " + room + " (corrupt or truncated header)");
        }
    }

    private byte[] readString(String what) {
        long length = in.i64(what + " (string length)");
        return in.bytes(length, what + " (string of " + Long.toUnsignedString(length) + " bytes)");
    }

    private GgufValueType valueType(long id, String what) {
        GgufValueType type = GgufValueType.byId(id);
        if (type == null) throw new ModelFormatException(source + ": " + what + " has unknown value type id " + id);
        return type;
    }

    private Object readValue(GgufValueType type, String what, int depth) {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedLong(in.u8Raw(what));
            case INT8 -> (long) in.u8Raw(what);
            case UINT16 -> Short.toUnsignedLong(in.i16(what));
            case INT16 -> (long) in.i16(what);
            case UINT32 -> Integer.toUnsignedLong(in.i32(what));
            case INT32 -> (long) in.i32(what);
            case UINT64, INT64 -> in.i64(what);
            case FLOAT32 -> in.f32(what);
            case FLOAT64 -> in.f64(what);
            case BOOL -> readBool(what);
            case STRING -> readString(what);
            case ARRAY -> readArray(what, depth);
        };
    }

    private boolean readBool(String what) {
        byte b = in.u8Raw(what);
        if (b != 0 && b != 1) throw new ModelFormatException(source + ": " + what + " is a bool with value " + b);
        return b == 1;
    }

    private GgufArray readArray(String what, int depth) {
        if (depth >= MAX_ARRAY_DEPTH) {
            throw new ModelFormatException(source + ": " + what + " nests arrays deeper than " + MAX_ARRAY_DEPTH);
        }
        GgufValueType elementType = valueType(Integer.toUnsignedLong(in.i32(what + " (array element type)")), what);
        long count = in.i64(what + " (array count)");
        long room = in.remaining() / elementType.minEncodedBytes();
        if (count < 0 || count > room) {
            throw new ModelFormatException(source + ": " + what + " is an array of " + Long.toUnsignedString(count)
                    + " " + elementType + " elements but the rest of the file has room for at most " + room);
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(source + ": " + what + " has " + count + " elements, too many to read");
        }
        int n = (int) count;
        String element = what + " element";
        Object elements = switch (elementType) {
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) a[i] = in.f32(element);
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) a[i] = in.f64(element);
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) a[i] = readBool(element);
                yield a;
            }
            case STRING -> {
                byte[][] a = new byte[n][];
                for (int i = 0; i < n; i++) a[i] = readString(element);
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[n];
                for (int i = 0; i < n; i++) a[i] = readArray(element, depth + 1);
                yield a;
            }
            default -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) a[i] = (Long) readValue(elementType, element, depth);
                yield a;
            }
        };
        return new GgufArray(elementType, elements, n);
    }

    private int alignment(GgufMetadata metadata) {
        String key = "general.alignment";
        if (!metadata.has(key)) return DEFAULT_ALIGNMENT;
        long a = metadata.getLong(key);
        if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
            throw new ModelFormatException(source + ": " + key + " = " + a + " is not a positive power of two");
        }
        return (int) a;
    }

    private GgufTensorInfo readTensorInfo(long index, int alignment) {
        String name = utf8(readString("name of tensor #" + index));
        String what = "tensor " + name;
        long nDims = Integer.toUnsignedLong(in.i32(what + " n_dims"));
        if (nDims > MAX_DIMS) {
            throw new ModelFormatException(source + ": " + what + " has n_dims " + nDims + " (at most " + MAX_DIMS + ")");
        }
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < ne.length; d++) {
            ne[d] = in.i64(what + " ne[" + d + "]");
            if (ne[d] < 0) {
                throw new ModelFormatException(source + ": " + what + " has dimension ne[" + d + "] = "
                        + Long.toUnsignedString(ne[d]) + ", which is too large");
            }
        }
        long typeId = Integer.toUnsignedLong(in.i32(what + " type"));
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) {
            throw new ModelFormatException(source + ": " + what + " has unknown tensor type id " + typeId);
        }
        long offset = in.i64(what + " offset");
        long byteSize;
        try {
            byteSize = type.byteSize(ne);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(source + ": " + what + " dimensions " + Arrays.toString(ne)
                    + " overflow a 64-bit byte size");
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(source + ": " + what + " (" + type + "): " + e.getMessage());
        }
        if (offset < 0 || offset % alignment != 0) {
            throw new ModelFormatException(source + ": " + what + " offset " + Long.toUnsignedString(offset)
                    + " is not a multiple of the alignment " + alignment);
        }
        return new GgufTensorInfo(name, type, ne, offset, byteSize);
    }

    private void checkTensorExtents(List<GgufTensorInfo> infos, long dataOffset) {
        if (infos.isEmpty()) return;
        long fileSize = file.byteSize();
        long dataBytes = fileSize - dataOffset;
        if (dataBytes < 0) {
            throw new ModelFormatException(source + ": truncated file: the tensor data section should start at offset "
                    + dataOffset + " but the file has only " + fileSize + " bytes");
        }
        for (GgufTensorInfo t : infos) {
            long end = t.offset() + t.byteSize(); // both are non-negative and below 2^63: cannot wrap past 2^64
            if (end < 0 || end > dataBytes) {
                throw new ModelFormatException(source + ": tensor " + t.name() + " (" + t.type() + ", "
                        + t.byteSize() + " bytes at data offset " + t.offset() + ") ends past the end of the file: "
                        + "the data section has only " + dataBytes + " bytes (truncated?)");
            }
        }
    }

    private static long alignUp(long position, int alignment) {
        return Math.addExact(position, alignment - 1) / alignment * alignment;
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
