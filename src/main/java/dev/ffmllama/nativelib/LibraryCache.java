package dev.ffmllama.nativelib;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;

/**
 * A directory where shared libraries shipped as classpath resources are copied so {@code dlopen} can
 * load them: {@code <root>/<content-hash>/<file>}.
 *
 * <p>The directory name is a hash of the files' names and content fingerprints (the CRC-32 a jar
 * records for each entry, or a SHA-256 of a file in a classes directory), so a new build of a library never
 * reuses a stale copy, and an unchanged one is extracted once and then reused by every JVM. Each file
 * is written to a private temporary name in its final directory and then renamed into place
 * ({@link StandardCopyOption#ATOMIC_MOVE}): a concurrent JVM sees either no file or the complete file,
 * never a partial one, and two JVMs racing to extract the same content both end with identical files.
 * Libraries that load each other through {@code RUNPATH $ORIGIN} (OpenBLAS and libgfortran) are
 * extracted together into the same directory.
 *
 * <p>Where the root is: the system property {@value #CACHE_DIR_PROPERTY} if set, else
 * {@code $XDG_CACHE_HOME/ffm-llama}, else {@code ~/.cache/ffm-llama}; if none of these can be created
 * and written, {@code ${java.io.tmpdir}/ffm-llama-<user>} (created owner-only).
 */
public final class LibraryCache {
    /** System property overriding the cache root directory. */
    public static final String CACHE_DIR_PROPERTY = "ffmllama.cache.dir";

    /** Hex characters of the content hash used as directory name (80 bits: collisions are not a concern). */
    private static final int HASH_DIR_CHARS = 20;

    private final Path root;

    /** A cache rooted at {@code root} (created on first extraction). */
    public LibraryCache(Path root) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath();
    }

    /** The cache at the default location described in the class comment. */
    public static LibraryCache defaultCache() {
        String configured = System.getProperty(CACHE_DIR_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return new LibraryCache(Path.of(configured));
        }
        List<String> tried = new ArrayList<>();
        String xdg = System.getenv("XDG_CACHE_HOME");
        String home = System.getProperty("user.home");
        List<Path> candidates = new ArrayList<>();
        if (xdg != null && !xdg.isBlank()) candidates.add(Path.of(xdg, "ffm-llama"));
        if (home != null && !home.isBlank()) candidates.add(Path.of(home, ".cache", "ffm-llama"));
        for (Path candidate : candidates) {
            try {
                Files.createDirectories(candidate);
                if (Files.isWritable(candidate)) return new LibraryCache(candidate);
                tried.add(candidate + " (not writable)");
            } catch (IOException | SecurityException e) {
                tried.add(candidate + " (" + e + ")");
            }
        }
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "ffm-llama-" + System.getProperty("user.name", "user"));
        try {
            createPrivateDirectory(tmp);
            return new LibraryCache(tmp);
        } catch (IOException e) {
            tried.add(tmp + " (" + e + ")");
            throw new NativeLibraryException("no usable cache directory to extract native libraries into; tried "
                    + String.join(", ", tried) + ". Set -D" + CACHE_DIR_PROPERTY + "=<writable directory>.", e);
        }
    }

    /** The cache root directory. */
    public Path root() {
        return root;
    }

    /**
     * Copies the classpath resources {@code resourceFolder/<name>} for every name in {@code fileNames}
     * into one directory of this cache (unless an identical copy is already there) and returns that
     * directory. Works whether the resources are in a jar or in a classes directory.
     *
     * @throws NativeLibraryException if a resource is missing or the files cannot be written
     */
    public Path extract(ClassLoader loader, String resourceFolder, List<String> fileNames) {
        List<Resource> resources = new ArrayList<>(fileNames.size());
        MessageDigest combined = sha256();
        for (String name : fileNames) {
            Resource r = describe(loader, resourceFolder, name);
            resources.add(r);
            combined.update((name + "\0" + r.fingerprint + "\0").getBytes(StandardCharsets.UTF_8));
        }
        String hash = HexFormat.of().formatHex(combined.digest()).substring(0, HASH_DIR_CHARS);
        Path dir = root.resolve(hash);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new NativeLibraryException("cannot create the native library cache directory " + dir + ": " + e
                    + ". Set -D" + CACHE_DIR_PROPERTY + "=<writable directory>.", e);
        }
        for (Resource r : resources) {
            installIfAbsent(loader, r, dir.resolve(r.name));
        }
        return dir;
    }

    /**
     * One resource's location, size and content fingerprint: {@code crc32:<hex>} taken from the jar's
     * central directory when the resource is a jar entry (known without reading 30+ MB of OpenBLAS at
     * every start), else {@code sha256:<hex>} of its bytes.
     */
    private record Resource(String path, String name, long size, String fingerprint) {
        boolean isCrc32() {
            return fingerprint.startsWith("crc32:");
        }
    }

    private static Resource describe(ClassLoader loader, String folder, String name) {
        String path = folder + "/" + name;
        URL url = loader.getResource(path);
        if (url == null) throw missing(path);
        try {
            if (url.openConnection() instanceof JarURLConnection jar) {
                JarEntry entry = jar.getJarEntry();
                if (entry.getCrc() != -1 && entry.getSize() != -1) {
                    return new Resource(path, name, entry.getSize(), "crc32:" + Long.toHexString(entry.getCrc()));
                }
            }
            try (InputStream in = url.openStream()) {
                Fingerprinted f = fingerprint(in, OutputStream.nullOutputStream(), false);
                return new Resource(path, name, f.size, f.fingerprint);
            }
        } catch (IOException e) {
            throw new NativeLibraryException("cannot read classpath resource " + path + ": " + e, e);
        }
    }

    private record Fingerprinted(long size, String fingerprint) {
    }

    /** Copies {@code in} to {@code out}, computing the CRC-32 or SHA-256 fingerprint on the way. */
    private static Fingerprinted fingerprint(InputStream in, OutputStream out, boolean crc32) throws IOException {
        if (crc32) {
            CheckedInputStream checked = new CheckedInputStream(in, new CRC32());
            long size = checked.transferTo(out);
            return new Fingerprinted(size, "crc32:" + Long.toHexString(checked.getChecksum().getValue()));
        }
        MessageDigest digest = sha256();
        long size = new DigestInputStream(in, digest).transferTo(out);
        return new Fingerprinted(size, "sha256:" + HexFormat.of().formatHex(digest.digest()));
    }

    /** Writes {@code r} to {@code target} through a temporary file and an atomic rename, unless present. */
    private static void installIfAbsent(ClassLoader loader, Resource r, Path target) {
        try {
            if (Files.isRegularFile(target) && Files.size(target) == r.size) {
                return; // same content hash directory and same size: extracted before (atomically)
            }
        } catch (IOException ignored) {
            // unreadable: rewrite it below
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile(target.getParent(), "." + r.name + ".", ".part");
            Fingerprinted written;
            try (InputStream in = open(loader, r.path); OutputStream out = Files.newOutputStream(tmp)) {
                written = fingerprint(in, out, r.isCrc32());
            }
            if (written.size != r.size || !written.fingerprint.equals(r.fingerprint)) {
                throw new IOException("the extracted bytes (" + written.size + " bytes, " + written.fingerprint
                        + ") do not match the resource (" + r.size + " bytes, " + r.fingerprint + ")");
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
        } catch (IOException e) {
            throw new NativeLibraryException("cannot extract classpath resource " + r.path + " to " + target + ": "
                    + e + ". Set -D" + CACHE_DIR_PROPERTY + "=<writable directory> to extract elsewhere.", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray .part file is harmless
                }
            }
        }
    }

    private static InputStream open(ClassLoader loader, String path) throws IOException {
        InputStream in = loader.getResourceAsStream(path);
        if (in == null) throw missing(path);
        return in;
    }

    private static NativeLibraryException missing(String path) {
        return new NativeLibraryException("classpath resource " + path + " not found (platform " + Platform.current()
                + ")");
    }

    /**
     * Creates {@code dir} readable only by its owner, or accepts an existing one only if we own it:
     * a shared temporary directory must not let another user plant a library we would then load.
     */
    private static void createPrivateDirectory(Path dir) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        if (!Files.isDirectory(dir)) {
            if (posix) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } else {
                Files.createDirectories(dir);
            }
        }
        if (posix) {
            String owner = Files.getOwner(dir).getName();
            String me = System.getProperty("user.name");
            if (me != null && !me.equals(owner)) {
                throw new AccessDeniedException(dir.toString(), null, "owned by " + owner + ", not by " + me);
            }
        }
        if (!Files.isWritable(dir)) {
            throw new AccessDeniedException(dir.toString(), null, "not writable");
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }
}
