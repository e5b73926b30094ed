package dev.ffmllama.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A little-endian cursor over a segment that checks every read against the end of the data and
 * reports a short read as a {@link ModelFormatException} naming the file, the field and the offset.
 * Nothing is allocated from a length field until that length has been checked against what remains.
 */
final class BoundedReader {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment segment;
    private final String source;
    private long position;

    BoundedReader(MemorySegment segment, String source) {
        this.segment = segment;
        this.source = source;
    }

    String source() {
        return source;
    }

    long position() {
        return position;
    }

    long remaining() {
        return segment.byteSize() - position;
    }

    /** Throws unless {@code count} more bytes are available; {@code what} names the field being read. */
    void require(long count, String what) {
        if (count < 0 || count > remaining()) {
            String need = count < 0 ? "a length of " + Long.toUnsignedString(count) : count + " bytes";
            throw new ModelFormatException(source + ": truncated file: " + what + " needs " + need + " at offset "
                    + position + " but only " + remaining() + " bytes remain");
        }
    }

    void skip(long count, String what) {
        require(count, what);
        position += count;
    }

    byte u8Raw(String what) {
        require(1, what);
        return segment.get(ValueLayout.JAVA_BYTE, position++);
    }

    short i16(String what) {
        require(2, what);
        short v = segment.get(I16, position);
        position += 2;
        return v;
    }

    int i32(String what) {
        require(4, what);
        int v = segment.get(I32, position);
        position += 4;
        return v;
    }

    long i64(String what) {
        require(8, what);
        long v = segment.get(I64, position);
        position += 8;
        return v;
    }

    float f32(String what) {
        require(4, what);
        float v = segment.get(F32, position);
        position += 4;
        return v;
    }

    double f64(String what) {
        require(8, what);
        double v = segment.get(F64, position);
        position += 8;
        return v;
    }

    /** {@code count} raw bytes; the count is checked against the remaining data before allocating. */
    byte[] bytes(long count, String what) {
        require(count, what);
        if (count > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(source + ": " + what + " is " + count + " bytes long, too long to read");
        }
        byte[] out = new byte[(int) count];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, position, out, 0, out.length);
        position += count;
        return out;
    }
}
