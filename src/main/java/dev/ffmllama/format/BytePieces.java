package dev.ffmllama.format;

/** SentencePiece byte-fallback pieces: {@code <0xXX>} with two upper- or lower-case hex digits. */
public final class BytePieces {
    private BytePieces() {
    }

    /** The byte value (0–255) the piece stands for, or -1 when it is not a byte piece. */
    public static int parse(byte[] piece) {
        if (piece.length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') return -1;
        int hi = Character.digit(piece[3], 16);
        int lo = Character.digit(piece[4], 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** The piece for a byte, as SentencePiece writes it: {@code <0x0A>}. */
    public static String of(int b) {
        return String.format("<0x%02X>", b & 0xFF);
    }
}
