package dev.ffmllama.format;

/** Types of GGUF metadata values, numbered as in the file. */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1),
    /** uint64 length + bytes. */
    STRING(8),
    /** uint32 element type + uint64 count + elements. */
    ARRAY(12),
    UINT64(8), INT64(8), FLOAT64(8);

    private final int minEncodedBytes;

    GgufValueType(int minEncodedBytes) {
        this.minEncodedBytes = minEncodedBytes;
    }

    /** The fewest bytes one value of this type takes in a file (its exact size for numbers). */
    int minEncodedBytes() {
        return minEncodedBytes;
    }

    /** Whether values of this type are integers (stored as {@code long} by the reader). */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type with that id, or null. The ids are the declaration order. */
    static GgufValueType byId(long id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[(int) id] : null;
    }
}
