package dev.ffmllama.format;

import dev.ffmllama.tensor.DType;
import dev.ffmllama.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0 and 2.0; 3.0 is read too), the exchange
 * format of the CLI and the golden test data.
 *
 * <p>Supported: little-endian {@code '<f4'} arrays in C order, read into and written from off-heap
 * {@link Tensor}s, and {@code '<i4'} / {@code '<i8'} arrays read as {@code int} token ids. Everything else
 * (Fortran order, other dtypes or byte orders, structured or object arrays, truncated or oversized data, a
 * malformed header) raises an {@link NpyException} naming the file and the problem. Data is copied byte
 * for byte, which assumes a little-endian host (x86-64, aarch64).
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** The header (magic, version, length field, dict) is padded to a multiple of this. */
    private static final int HEADER_ALIGNMENT = 64;
    /** Largest chunk copied between a channel and a segment at once (ByteBuffers are int-indexed). */
    private static final int CHUNK = 1 << 30;

    private Npy() {
    }

    /**
     * The header of a {@code .npy} file.
     *
     * @param descr        NumPy dtype string, e.g. {@code '<f4'}
     * @param fortranOrder true for column-major data (not supported for reading data)
     * @param shape        the dimensions ({@code []} for a scalar)
     * @param dataOffset   where the data starts in the file
     */
    public record Header(String descr, boolean fortranOrder, long[] shape, long dataOffset) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }

        @Override
        public String toString() {
            return "descr " + descr + ", shape " + Arrays.toString(shape) + (fortranOrder ? ", Fortran order" : "");
        }
    }

    /** Reads a {@code '<f4'} array into a new tensor of the same shape (the caller closes it). */
    public static Tensor readFloats(Path file) {
        return reading(file, ch -> {
            Header h = readHeader(file, ch);
            requireDescr(file, h, "<f4");
            checkDataSize(file, ch, h, DType.F32.byteSize()); // before sizing an allocation from the header
            Tensor t = Tensor.allocate(DType.F32, h.shape());
            try {
                readData(file, ch, h, DType.F32.byteSize(), t.segment());
                return t;
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
        });
    }

    /** Reads token ids from a {@code '<i4'} or {@code '<i8'} array of any shape, flattened in C order. */
    public static int[] readIds(Path file) {
        return reading(file, ch -> {
            Header h = readHeader(file, ch);
            int width = switch (h.descr()) {
                case "<i4" -> 4;
                case "<i8" -> 8;
                default -> throw new NpyException(file, "dtype '" + h.descr() + "' is not an integer id type "
                        + "(expected '<i4' or '<i8')");
            };
            requireCOrder(file, h);
            if (h.elementCount() > Integer.MAX_VALUE / 8) {
                throw new NpyException(file, "too many ids for an int[]: " + h.elementCount());
            }
            checkDataSize(file, ch, h, width); // before sizing an allocation from the header
            MemorySegment data = MemorySegment.ofArray(new byte[(int) h.elementCount() * width]);
            readData(file, ch, h, width, data);
            int[] ids = new int[(int) h.elementCount()];
            for (int i = 0; i < ids.length; i++) {
                long v = width == 4 ? data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i)
                        : data.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
                if (v != (int) v) throw new NpyException(file, "id " + v + " at index " + i + " does not fit an int");
                ids[i] = (int) v;
            }
            return ids;
        });
    }

    /** Reads only the header. */
    public static Header readHeader(Path file) {
        return reading(file, ch -> readHeader(file, ch));
    }

    /** Writes a contiguous F32, I32 or I64 tensor as a version 1.0 file (2.0 if the header needs it). */
    public static void write(Path file, Tensor t) {
        String descr = switch (t.dtype()) {
            case F32 -> "<f4";
            case I32 -> "<i4";
            case I64 -> "<i8";
            default -> throw new IllegalArgumentException("cannot write a " + t.dtype() + " tensor to " + file
                    + " (supported: F32, I32, I64)");
        };
        if (!t.isContiguous()) throw new IllegalArgumentException("cannot write a strided tensor to " + file);
        byte[] header = encodeHeader(descr, t.shape());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header));
            MemorySegment data = t.segment();
            for (long at = 0; at < data.byteSize(); at += CHUNK) {
                writeFully(ch, data.asSlice(at, Math.min(CHUNK, data.byteSize() - at)).asByteBuffer());
            }
        } catch (IOException e) {
            throw ioFailure("cannot write", file, e);
        }
    }

    /** What a reader does with the open file. */
    private interface ChannelReader<T> {
        T read(FileChannel ch) throws IOException;
    }

    private static <T> T reading(Path file, ChannelReader<T> reader) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return reader.read(ch);
        } catch (IOException e) {
            throw ioFailure("cannot read", file, e);
        }
    }

    private static UncheckedIOException ioFailure(String what, Path file, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file" : e.toString();
        return new UncheckedIOException(what + " " + file + ": " + why, e);
    }

    // ---- header -------------------------------------------------------------------------------------

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        ByteBuffer prefix = readExactly(file, ch, 0, 8, "the magic and version");
        byte[] magic = new byte[MAGIC.length];
        prefix.get(magic);
        if (!Arrays.equals(magic, MAGIC)) throw new NpyException(file, "not a .npy file (bad magic)");
        int major = prefix.get() & 0xff;
        int minor = prefix.get() & 0xff;
        if (major < 1 || major > 3) {
            throw new NpyException(file, "unsupported .npy format version " + major + "." + minor);
        }
        int lengthBytes = major == 1 ? 2 : 4;
        ByteBuffer lengthField = readExactly(file, ch, 8, lengthBytes, "the header length").order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = major == 1 ? lengthField.getShort() & 0xffff : lengthField.getInt() & 0xffffffffL;
        long dictStart = 8L + lengthBytes;
        if (headerLength > ch.size() - dictStart) {
            throw new NpyException(file, "truncated: the file ends inside the header (its length field says "
                    + headerLength + " bytes but only " + Math.max(0, ch.size() - dictStart) + " follow)");
        }
        ByteBuffer dictBytes = readExactly(file, ch, dictStart, (int) headerLength, "the header");
        String dict = (major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).decode(dictBytes).toString();
        return parseHeader(file, dict, dictStart + headerLength);
    }

    private static Header parseHeader(Path file, String text, long dataOffset) {
        Object parsed = new LiteralParser(file, text).parseAll();
        if (!(parsed instanceof Map<?, ?> dict)) throw new NpyException(file, "header is not a dict: " + text.strip());
        if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
            throw new NpyException(file, "header must have exactly the keys descr, fortran_order and shape, got "
                    + dict.keySet());
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw new NpyException(file, "structured or non-string dtype " + dict.get("descr") + " is not supported");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new NpyException(file, "fortran_order must be True or False, got " + dict.get("fortran_order"));
        }
        if (!(dict.get("shape") instanceof List<?> dims)) {
            throw new NpyException(file, "shape must be a tuple of integers, got " + dict.get("shape"));
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long dim) || dim < 0) {
                throw new NpyException(file, "shape must be a tuple of non-negative integers, got " + dims);
            }
            shape[i] = dim;
        }
        Header h = new Header(descr, fortran, shape, dataOffset);
        try {
            h.elementCount();
        } catch (ArithmeticException e) {
            throw new NpyException(file, "shape " + dims + " overflows");
        }
        return h;
    }

    private static byte[] encodeHeader(String descr, long[] shape) {
        StringJoiner dims = new StringJoiner(", ", "(", shape.length == 1 ? ",)" : ")");
        for (long d : shape) dims.add(Long.toString(d));
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
        int major = dict.length() + 1 + 10 > 0xffff ? 2 : 1;
        int prefix = MAGIC.length + 2 + (major == 1 ? 2 : 4);
        int padded = (prefix + dict.length() + 1 + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
        int dictLength = padded - prefix;
        ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) dictLength); else b.putInt(dictLength);
        b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (b.position() < padded - 1) b.put((byte) ' ');
        b.put((byte) '\n');
        return b.array();
    }

    // ---- data ---------------------------------------------------------------------------------------

    private static void requireDescr(Path file, Header h, String expected) {
        if (!h.descr().equals(expected)) {
            throw new NpyException(file, "dtype '" + h.descr() + "' is not supported here (expected '" + expected
                    + "', little-endian float32)");
        }
        requireCOrder(file, h);
    }

    private static void requireCOrder(Path file, Header h) {
        if (h.fortranOrder()) {
            throw new NpyException(file, "fortran_order is True; only C-order (row-major) arrays are supported "
                    + "(save with np.ascontiguousarray)");
        }
    }

    /** Throws unless the file holds exactly the data the header announces, and nothing after it. */
    private static void checkDataSize(Path file, FileChannel ch, Header h, int itemSize) throws IOException {
        long expected;
        try {
            expected = Math.multiplyExact(h.elementCount(), itemSize);
        } catch (ArithmeticException e) {
            throw new NpyException(file, h + " needs more than 2^63 bytes of data");
        }
        long available = ch.size() - h.dataOffset();
        if (available != expected) {
            throw new NpyException(file, (available < expected ? "truncated: " : "size mismatch: ") + h
                    + " needs " + expected + " bytes of data but the file has " + available + " after the header");
        }
    }

    /** Copies exactly the data the header announces into {@code dest}; the file must end right after it. */
    private static void readData(Path file, FileChannel ch, Header h, int itemSize, MemorySegment dest)
            throws IOException {
        checkDataSize(file, ch, h, itemSize);
        long expected = h.elementCount() * itemSize;
        for (long at = 0; at < expected; at += CHUNK) {
            ByteBuffer chunk = dest.asSlice(at, Math.min(CHUNK, expected - at)).asByteBuffer();
            long pos = h.dataOffset() + at;
            while (chunk.hasRemaining()) {
                int n = ch.read(chunk, pos);
                if (n < 0) throw new NpyException(file, "truncated while reading the data");
                pos += n;
            }
        }
    }

    private static ByteBuffer readExactly(Path file, FileChannel ch, long position, int length, String what)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) {
                throw new NpyException(file, "truncated: the file ends inside " + what);
            }
        }
        return b.flip();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /**
     * Parses the Python literal in a header: dicts, strings, True/False, integers (an old 'L'
     * suffix is accepted) and tuples/lists. Tuples and lists become {@link List}s.
     */
    private static final class LiteralParser {
        /** A real header nests two levels (dict, shape tuple); deeper input is refused, not recursed into. */
        private static final int MAX_DEPTH = 8;
        private final Path file;
        private final String text;
        private int pos;
        private int depth;

        LiteralParser(Path file, String text) {
            this.file = file;
            this.text = text;
        }

        Object parseAll() {
            Object v = value();
            skipSpace();
            if (pos != text.length()) throw error("unexpected text after the header dict");
            return v;
        }

        private Object value() {
            skipSpace();
            if (pos >= text.length()) throw error("the header ends early");
            char c = text.charAt(pos);
            if (c == '{' || c == '(' || c == '[') {
                if (++depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
                Object container = c == '{' ? dict() : sequence(c == '(' ? ')' : ']');
                depth--;
                return container;
            }
            if (c == '\'' || c == '"') return string();
            if (c == '-' || Character.isDigit(c)) return integer();
            if (Character.isLetter(c)) return word();
            throw error("unexpected '" + c + "'");
        }

        private Map<String, Object> dict() {
            Map<String, Object> map = new LinkedHashMap<>();
            pos++; // '{'
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    return map;
                }
                if (!(value() instanceof String key)) throw error("dict keys must be strings");
                skipSpace();
                expect(':');
                if (map.put(key, value()) != null) throw error("duplicate key '" + key + "'");
                if (!separator('}')) return map;
            }
        }

        private List<Object> sequence(char close) {
            List<Object> items = new ArrayList<>();
            pos++; // '(' or '['
            while (true) {
                skipSpace();
                if (peek() == close) {
                    pos++;
                    return items;
                }
                items.add(value());
                if (!separator(close)) return items;
            }
        }

        /** After an item: consumes ',' (true: more may follow) or the closing bracket (false: done). */
        private boolean separator(char close) {
            skipSpace();
            char c = peek();
            pos++;
            if (c == ',') return true;
            if (c == close) return false;
            throw error("expected ',' or '" + close + "'");
        }

        private String string() {
            char quote = text.charAt(pos++);
            int end = text.indexOf(quote, pos);
            if (end < 0) throw error("unterminated string");
            String s = text.substring(pos, end);
            pos = end + 1;
            return s;
        }

        private Long integer() {
            int start = pos;
            if (peek() == '-') pos++;
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
            String digits = text.substring(start, pos);
            if (pos < text.length() && (text.charAt(pos) == 'L' || text.charAt(pos) == 'l')) pos++;
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("bad integer '" + digits + "'");
            }
        }

        private Object word() {
            int start = pos;
            while (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) pos++;
            String w = text.substring(start, pos);
            return switch (w) {
                case "True" -> Boolean.TRUE;
                case "False" -> Boolean.FALSE;
                default -> throw error("unexpected word '" + w + "'");
            };
        }

        private char peek() {
            if (pos >= text.length()) throw error("the header ends early");
            return text.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            pos++;
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
        }

        private NpyException error(String problem) {
            return new NpyException(file, "malformed header (" + problem + " at character " + pos + "): "
                    + text.strip());
        }
    }
}
