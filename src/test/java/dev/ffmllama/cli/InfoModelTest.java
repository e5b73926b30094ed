package dev.ffmllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.SharedData;
import org.junit.jupiter.api.Test;

/** {@code info --model} describes the model's configuration and sizes. */
class InfoModelTest {
    @Test
    void describesStories260K() {
        CliRunner.Result r = CliRunner.run("info", "--model", SharedData.model("stories260K.bin").toString(),
                "--tokenizer", SharedData.model("tok512.bin").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("dim 64, hidden 172, layers 5, heads 8, kv heads 4 (head size 8, GQA 2:1)"), r.out());
        assertTrue(r.out().contains("512 tokens (BOS 1, EOS 2), classifier tied to the embedding"), r.out());
        // 512*64 embedding + 5 layers * (2*64 + 2*64*64 + 2*32*64 + 3*172*64) + 64 final norm
        assertTrue(r.out().contains("Parameters:       " + String.format("%,d", 512 * 64 + 5 * (128 + 8192 + 4096 + 33024) + 64)),
                r.out());
    }

    @Test
    void missingModelIsAUserError() {
        CliRunner.Result r = CliRunner.run("info", "--model", "/nonexistent/model.gguf");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("does not exist"), r.err());
    }
}
