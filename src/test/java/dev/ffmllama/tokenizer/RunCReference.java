package dev.ffmllama.tokenizer;

import dev.ffmllama.format.Vocabulary;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A direct transcription of llama2.c run.c's {@code encode()} (quadratic merge loop: rescan every
 * pair, take the first best) used only to cross-check the tokenizer's priority-queue merge.
 */
final class RunCReference {
    private final Vocabulary v;
    private final Map<String, Integer> lookup = new HashMap<>();

    RunCReference(Vocabulary v) {
        this.v = v;
        for (int i = 0; i < v.size(); i++) lookup.putIfAbsent(latin1(v.pieces()[i]), i);
    }

    int[] encode(String s) {
        byte[] text = s.getBytes(StandardCharsets.UTF_8);
        List<Integer> tokens = new ArrayList<>();
        if (text.length > 0) tokens.add(lookup.get(" "));
        byte[] buf = new byte[4];
        int len = 0;
        for (int i = 0; i < text.length; i++) {
            if ((text[i] & 0xC0) != 0x80) len = 0;
            buf[len++] = text[i];
            if (i + 1 < text.length && (text[i + 1] & 0xC0) == 0x80 && len < 4) continue;
            Integer id = lookup.get(new String(buf, 0, len, StandardCharsets.ISO_8859_1));
            if (id != null) {
                tokens.add(id);
            } else {
                for (int k = 0; k < len; k++) tokens.add((buf[k] & 0xFF) + 3);
            }
            len = 0;
        }
        while (true) {
            float bestScore = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int i = 0; i < tokens.size() - 1; i++) {
                Integer id = lookup.get(latin1(v.pieces()[tokens.get(i)]) + latin1(v.pieces()[tokens.get(i + 1)]));
                if (id != null && v.scores()[id] > bestScore) {
                    bestScore = v.scores()[id];
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx == -1) break;
            tokens.set(bestIdx, bestId);
            tokens.remove(bestIdx + 1);
        }
        int[] out = new int[tokens.size() + 2];
        out[0] = 1;
        for (int i = 0; i < tokens.size(); i++) out[i + 1] = tokens.get(i);
        out[out.length - 1] = 2;
        return out;
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
