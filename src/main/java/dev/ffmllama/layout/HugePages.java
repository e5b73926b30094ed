package dev.ffmllama.layout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Transparent huge pages for the {@code hugepages=on} layout, through FFM downcalls to libc ({@code mmap},
 * {@code madvise}, {@code munmap} from {@link Linker#defaultLookup()}; Linux x86-64 values of the flags).
 *
 * <p>With THP in {@code madvise} mode (the common default, see {@code /sys/kernel/mm/transparent_hugepage/enabled})
 * only advised ranges get 2 MiB pages, and only when a page is first touched there: memory that
 * {@link Arena#allocate} has already zeroed is made of 4 KiB pages that khugepaged may (or may not) collapse
 * later. So {@link #allocate} maps fresh anonymous memory, advises it, and only then hands it out. File
 * mappings (the model weights used in place) can be advised too, but the page cache of most file systems
 * does not back them with huge pages: {@link #anonHugePagesKb()} shows what really happened.
 */
public final class HugePages {
    /** The x86-64 huge page size, to which advised ranges are aligned. */
    public static final long SIZE = 2L << 20;

    private static final int PROT_READ = 0x1, PROT_WRITE = 0x2, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final long MAP_FAILED = -1L;

    private HugePages() {
    }

    /** libc's functions, looked up on first use. */
    private static final class Libc {
        static final MethodHandle MADVISE = handle("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        static final MethodHandle MMAP = handle("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG));
        static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

        @SuppressWarnings("restricted")
        private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
            Linker linker = Linker.nativeLinker();
            MemorySegment address = linker.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsupportedOperationException("libc has no " + name + "()"));
            return linker.downcallHandle(address, descriptor);
        }
    }

    /**
     * madvise(MADV_HUGEPAGE) on the whole 2 MiB pages inside {@code s} (nothing if it spans none). Returns the
     * bytes advised (0 if none, or if the kernel refused, e.g. without THP support).
     */
    public static long advise(MemorySegment s) {
        return advise(s.address(), s.byteSize());
    }

    /** {@link #advise(MemorySegment)} for the range {@code [address, address + bytes)}. */
    public static long advise(long address, long bytes) {
        long from = roundUp(address), to = (address + bytes) & -SIZE;
        if (to <= from) return 0;
        try {
            int status = (int) Libc.MADVISE.invokeExact(MemorySegment.ofAddress(from), to - from, MADV_HUGEPAGE);
            return status == 0 ? to - from : 0;
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * {@code bytes} of zeroed, 2 MiB-aligned anonymous memory, advised for huge pages before anything touches it,
     * unmapped when {@code arena} closes.
     *
     * @throws OutOfMemoryError if mmap fails
     */
    @SuppressWarnings("restricted")
    public static MemorySegment allocate(Arena arena, long bytes) {
        long length = roundUp(Math.max(bytes, 1)) + SIZE; // room to align the start to a 2 MiB boundary
        MemorySegment base;
        try {
            base = (MemorySegment) Libc.MMAP.invokeExact(MemorySegment.NULL, length, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            throw propagate(t);
        }
        if (base.address() == MAP_FAILED) throw new OutOfMemoryError("mmap of " + length + " bytes failed");
        long start = roundUp(base.address());
        advise(start, roundUp(bytes));
        long mapping = base.address();
        return MemorySegment.ofAddress(start).reinterpret(bytes, arena, s -> unmap(mapping, length));
    }

    private static void unmap(long address, long length) {
        try {
            int ignored = (int) Libc.MUNMAP.invokeExact(MemorySegment.ofAddress(address), length);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** This process's AnonHugePages from /proc/self/smaps_rollup, in KiB (-1 if it cannot be read). */
    public static long anonHugePagesKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
                if (line.startsWith("AnonHugePages:")) {
                    return Long.parseLong(line.substring("AnonHugePages:".length()).replace("kB", "").trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static long roundUp(long address) {
        return (address + SIZE - 1) & -SIZE;
    }

    private static RuntimeException propagate(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        throw new AssertionError("unexpected checked exception from a libc downcall", t);
    }
}
