package dev.ffmllama.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Extraction of classpath libraries into the cache: idempotent, atomic, concurrent-safe, loud on errors. */
class LibraryCacheTest {
    private static final ClassLoader LOADER = LibraryCacheTest.class.getClassLoader();
    /** A small library inside the OpenBLAS jar: exercises the jar (CRC-32) path cheaply. */
    private static final String JAR_FOLDER = "org/bytedeco/openblas/linux-x86_64";
    private static final String JAR_FILE = "libgcc_s.so.1";

    @TempDir
    Path root;

    @Test
    void extractingTwiceReusesTheSameFileWithoutRewritingIt() throws IOException {
        LibraryCache cache = new LibraryCache(root);
        Path dir1 = cache.extract(LOADER, NativeLibrary.RESOURCE_FOLDER, List.of(NativeLibrary.FILE_NAME));
        Path file = dir1.resolve(NativeLibrary.FILE_NAME);
        Object key1 = Files.readAttributes(file, BasicFileAttributes.class).fileKey();

        Path dir2 = cache.extract(LOADER, NativeLibrary.RESOURCE_FOLDER, List.of(NativeLibrary.FILE_NAME));
        assertEquals(dir1, dir2);
        assertEquals(key1, Files.readAttributes(file, BasicFileAttributes.class).fileKey(),
                "an identical library must not be rewritten (a running JVM may have it mapped)");
        assertEquals(root, dir1.getParent());
        assertArrayEquals(resourceBytes(NativeLibrary.RESOURCE_FOLDER + "/" + NativeLibrary.FILE_NAME),
                Files.readAllBytes(file));
        assertNoLeftoverTemporaries(root);
    }

    @Test
    void jarResourcesAreExtractedIntactAndGroupedInOneDirectory() throws IOException {
        LibraryCache cache = new LibraryCache(root);
        List<String> files = List.of(JAR_FILE, "libquadmath.so.0");
        Path dir = cache.extract(LOADER, JAR_FOLDER, files);
        for (String f : files) {
            assertArrayEquals(resourceBytes(JAR_FOLDER + "/" + f), Files.readAllBytes(dir.resolve(f)), f);
        }
        assertEquals(dir, cache.extract(LOADER, JAR_FOLDER, files));
        // A different set of files is a different directory: sets never overwrite each other.
        assertNotEquals(dir, cache.extract(LOADER, JAR_FOLDER, List.of(JAR_FILE)));
    }

    @Test
    void aTruncatedCopyIsReplaced() throws IOException {
        LibraryCache cache = new LibraryCache(root);
        Path dir = cache.extract(LOADER, JAR_FOLDER, List.of(JAR_FILE));
        Files.write(dir.resolve(JAR_FILE), new byte[10]);
        cache.extract(LOADER, JAR_FOLDER, List.of(JAR_FILE));
        assertArrayEquals(resourceBytes(JAR_FOLDER + "/" + JAR_FILE), Files.readAllBytes(dir.resolve(JAR_FILE)));
    }

    @Test
    void concurrentExtractionsAgreeOnOneCompleteFile() throws Exception {
        LibraryCache cache = new LibraryCache(root);
        int threads = 6;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Callable<Path>> tasks = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                tasks.add(() -> cache.extract(LOADER, JAR_FOLDER, List.of(JAR_FILE)));
            }
            Set<Path> dirs = new HashSet<>();
            for (Future<Path> f : pool.invokeAll(tasks)) dirs.add(f.get());
            assertEquals(1, dirs.size(), dirs.toString());
            Path dir = dirs.iterator().next();
            assertArrayEquals(resourceBytes(JAR_FOLDER + "/" + JAR_FILE), Files.readAllBytes(dir.resolve(JAR_FILE)));
        } finally {
            pool.shutdownNow();
        }
        assertNoLeftoverTemporaries(root);
    }

    @Test
    void aMissingResourceIsReportedByName() {
        LibraryCache cache = new LibraryCache(root);
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> cache.extract(LOADER, "native/no-such-platform", List.of("libnothing.so")));
        assertTrue(e.getMessage().contains("native/no-such-platform/libnothing.so"), e.getMessage());
    }

    @Test
    void anUnwritableRootIsReportedWithTheFix() throws IOException {
        Path file = Files.writeString(root.resolve("not-a-directory"), "x");
        LibraryCache cache = new LibraryCache(file);
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> cache.extract(LOADER, JAR_FOLDER, List.of(JAR_FILE)));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(LibraryCache.CACHE_DIR_PROPERTY), e.getMessage());
    }

    @Test
    void loadedLibraryIsTheExtractedOneAndLoadIsIdempotent() {
        NativeLibrary first = NativeLibrary.load();
        assertTrue(first == NativeLibrary.load());
        assertTrue(Files.isRegularFile(first.path()), first.path().toString());
        assertEquals(NativeLibrary.FILE_NAME, first.path().getFileName().toString());
    }

    private static byte[] resourceBytes(String path) throws IOException {
        try (InputStream in = LOADER.getResourceAsStream(path)) {
            assertTrue(in != null, path);
            return in.readAllBytes();
        }
    }

    private static void assertNoLeftoverTemporaries(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            List<Path> parts = all.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
            assertTrue(parts.isEmpty(), "temporary files left behind: " + parts);
        }
    }
}
