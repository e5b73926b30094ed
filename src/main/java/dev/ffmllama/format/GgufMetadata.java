package dev.ffmllama.format;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order, with typed getters. Integers of every width
 * are held as {@code Long}, FLOAT32 as {@code Float}, FLOAT64 as {@code Double}, BOOL as
 * {@code Boolean}, STRING as raw {@code byte[]} (decoded by {@link #getString}), arrays as
 * {@link GgufArray}. Getters throw {@link ModelFormatException} naming the key when it is missing or
 * has another type.
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, GgufValueType> types = new LinkedHashMap<>();
    private final Map<String, Object> values = new LinkedHashMap<>();

    GgufMetadata(String source) {
        this.source = source;
    }

    void put(String key, GgufValueType type, Object value) {
        if (types.putIfAbsent(key, type) != null) {
            throw new ModelFormatException(source + ": metadata key '" + key + "' appears twice");
        }
        values.put(key, value);
    }

    /** Keys in file order. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(types.keySet());
    }

    public boolean has(String key) {
        return types.containsKey(key);
    }

    /** The value's type, or null when the key is absent. */
    public GgufValueType type(String key) {
        return types.get(key);
    }

    /** The value as held (see the class comment), or null when absent. */
    public Object raw(String key) {
        return values.get(key);
    }

    public String getString(String key) {
        return new String((byte[]) require(key, GgufValueType.STRING), StandardCharsets.UTF_8);
    }

    public String getString(String key, String defaultValue) {
        return has(key) ? getString(key) : defaultValue;
    }

    /** Any integer type, as a signed long (uint64 values above Long.MAX_VALUE are rejected). */
    public long getLong(String key) {
        GgufValueType t = types.get(key);
        if (t == null) throw missing(key);
        if (!t.isInteger()) throw wrongType(key, t, "an integer");
        long v = (Long) values.get(key);
        if (t == GgufValueType.UINT64 && v < 0) {
            throw new ModelFormatException(source + ": metadata " + key + " = " + Long.toUnsignedString(v) + " is too large");
        }
        return v;
    }

    /** Any integer type that fits an int. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(source + ": metadata " + key + " = " + v + " does not fit a 32-bit int");
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    /** FLOAT32 or FLOAT64 (narrowed). */
    public float getFloat(String key) {
        GgufValueType t = types.get(key);
        if (t == null) throw missing(key);
        return switch (t) {
            case FLOAT32 -> (Float) values.get(key);
            case FLOAT64 -> (float) (double) (Double) values.get(key);
            default -> throw wrongType(key, t, "a float");
        };
    }

    public float getFloat(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBoolean(String key) {
        return (Boolean) require(key, GgufValueType.BOOL);
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        return has(key) ? getBoolean(key) : defaultValue;
    }

    public GgufArray getArray(String key) {
        return (GgufArray) require(key, GgufValueType.ARRAY);
    }

    private Object require(String key, GgufValueType expected) {
        GgufValueType t = types.get(key);
        if (t == null) throw missing(key);
        if (t != expected) throw wrongType(key, t, expected.name());
        return values.get(key);
    }

    private ModelFormatException missing(String key) {
        return new ModelFormatException(source + ": metadata key " + key + " is missing");
    }

    private ModelFormatException wrongType(String key, GgufValueType actual, String expected) {
        return new ModelFormatException(source + ": metadata " + key + " has type " + actual + ", expected " + expected);
    }

    @Override
    public String toString() {
        return "GgufMetadata" + types;
    }
}
