package dev.ffmllama.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void allocationIsAlignedZeroedAndSized() {
        try (Tensor t = Tensor.allocate(DType.F32, 3, 5)) {
            assertEquals(0, t.segment().address() % Tensor.ALIGNMENT);
            assertEquals(60, t.segment().byteSize());
            assertEquals(3, t.rows());
            assertEquals(5, t.cols());
            assertArrayEquals(new long[] {5, 1}, t.strides());
            for (float v : t.toFloatArray()) assertEquals(0f, v);
        }
    }

    @Test
    void viewsShareMemoryWithoutCopying() {
        try (Tensor t = Tensor.ofFloats(new float[] {0, 1, 2, 3, 4, 5}, 3, 2)) {
            Tensor row = t.row(1);
            assertArrayEquals(new float[] {2, 3}, row.toFloatArray());
            row.setFloat(42f, 0);
            assertEquals(42f, t.getFloat(1, 0));
            Tensor slice = t.slice(1, 3);
            assertArrayEquals(new long[] {2, 2}, slice.shape());
            assertEquals(t.segment().address() + 8, slice.segment().address());
            Tensor flat = t.reshape(6);
            assertEquals(5f, flat.getFloat(5));
        }
    }

    @Test
    void outOfBoundsAccessThrows() {
        try (Tensor t = Tensor.allocate(DType.F32, 2, 2)) {
            assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(2, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(1, 3));
            assertThrows(IllegalArgumentException.class, () -> t.getFloat(0));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(5));
            assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.F32, -1));
        }
    }

    @Test
    void closingFreesAndIsIdempotent() {
        Tensor t = Tensor.allocate(DType.F32, 4);
        Tensor view = t.slice(0, 2);
        t.close();
        t.close();
        assertFalse(t.isAlive());
        assertFalse(view.isAlive());
        assertThrows(IllegalStateException.class, () -> view.getFloat(0));
    }

    @Test
    void tensorsInACallersArenaAreFreedWithIt() {
        Tensor t;
        try (Arena arena = Arena.ofConfined()) {
            t = Tensor.allocate(arena, DType.F32, 8);
            t.close(); // not the owner: a no-op
            assertTrue(t.isAlive());
        }
        assertFalse(t.isAlive());
    }

    @Test
    void wrapChecksTheSize() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(24);
            assertEquals(6, Tensor.wrap(s, DType.F32, 2, 3).elementCount());
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(s, DType.F32, 2, 2));
        }
    }
}
