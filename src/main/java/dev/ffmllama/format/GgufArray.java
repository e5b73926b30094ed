package dev.ffmllama.format;

import java.nio.charset.StandardCharsets;

/**
 * A GGUF metadata array. Elements are held in one primitive array chosen by element type:
 * {@code long[]} for every integer type (uint64 values above {@code Long.MAX_VALUE} keep their bit
 * pattern), {@code float[]} for FLOAT32, {@code double[]} for FLOAT64, {@code boolean[]} for BOOL,
 * {@code byte[][]} (raw UTF-8) for STRING and {@code GgufArray[]} for nested arrays. The getters
 * return the arrays themselves, not copies (vocabularies are large): callers must not modify them.
 */
public final class GgufArray {
    private final GgufValueType elementType;
    private final Object elements;
    private final int length;

    GgufArray(GgufValueType elementType, Object elements, int length) {
        this.elementType = elementType;
        this.elements = elements;
        this.length = length;
    }

    public GgufValueType elementType() {
        return elementType;
    }

    public int length() {
        return length;
    }

    /** Integer elements (any integer element type). */
    public long[] longs() {
        require(elementType.isInteger(), "integers");
        return (long[]) elements;
    }

    /** FLOAT32 elements (FLOAT64 elements are narrowed). */
    public float[] floats() {
        if (elementType == GgufValueType.FLOAT64) {
            double[] d = (double[]) elements;
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
            return f;
        }
        require(elementType == GgufValueType.FLOAT32, "floats");
        return (float[]) elements;
    }

    public boolean[] booleans() {
        require(elementType == GgufValueType.BOOL, "booleans");
        return (boolean[]) elements;
    }

    /** STRING elements as stored (raw bytes, normally UTF-8). */
    public byte[][] rawStrings() {
        require(elementType == GgufValueType.STRING, "strings");
        return (byte[][]) elements;
    }

    /** STRING element {@code i} decoded as UTF-8. */
    public String string(int i) {
        return new String(rawStrings()[i], StandardCharsets.UTF_8);
    }

    /** The element array as held (for writers that copy an array of any element type). */
    Object elements() {
        return elements;
    }

    public GgufArray[] arrays() {
        require(elementType == GgufValueType.ARRAY, "arrays");
        return (GgufArray[]) elements;
    }

    private void require(boolean ok, String wanted) {
        if (!ok) throw new ModelFormatException("array of " + elementType + " read as " + wanted);
    }

    @Override
    public String toString() {
        return "GgufArray[" + elementType + " x " + length + "]";
    }
}
