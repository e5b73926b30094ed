package dev.ffmllama.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The reusable sub-views behind {@link Blas#linearOutputs}: the same view for the same operands, always correct. */
class SubViewsTest {

    @Test
    void sameBaseAndOffsetGiveTheSameView() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(4096), b = arena.allocate(4096);
            SubViews views = new SubViews();
            MemorySegment a64 = views.at(a, 64);
            assertEquals(a.address() + 64, a64.address());
            assertEquals(4096 - 64, a64.byteSize());
            assertSame(a64, views.at(a, 64));
            assertNotSame(a64, views.at(a, 128));
            assertNotSame(a64, views.at(b, 64), "keyed by the base object, not its contents");
            assertEquals(b.address() + 64, views.at(b, 64).address());
            assertEquals(3, views.size());
            assertThrows(IndexOutOfBoundsException.class, () -> views.at(a, 4097), "checked like asSlice");
        }
    }

    @Test
    void manyOperandsGrowTheTableThenStartOverWithoutWrongViews() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] bases = new MemorySegment[64];
            for (int i = 0; i < bases.length; i++) bases[i] = arena.allocate(1 << 12);
            SubViews views = new SubViews();
            // 64 bases x 512 offsets = 32 K pairs: past the growth limit, so the table is cleared at least once
            for (int round = 0; round < 2; round++) {
                for (MemorySegment base : bases) {
                    for (long offset = 0; offset < 4096; offset += 8) {
                        MemorySegment v = views.at(base, offset);
                        assertEquals(base.address() + offset, v.address());
                        assertEquals(base.byteSize() - offset, v.byteSize());
                    }
                }
            }
            assertTrue(views.size() <= 1 << 13, "bounded: " + views.size());
            // a small working set is then served from the table again
            MemorySegment v = views.at(bases[0], 8);
            assertSame(v, views.at(bases[0], 8));
        }
    }
}
