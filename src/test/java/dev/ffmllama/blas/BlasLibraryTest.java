package dev.ffmllama.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.nativelib.NativeLibrary;
import dev.ffmllama.nativelib.NativeLibraryException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;

/** Choosing the BLAS library with -Dffmllama.blas (the environment variable works the same way). */
@DisabledIfEnvironmentVariable(named = BlasLibrary.ENV, matches = ".+",
        disabledReason = "the environment already selects a BLAS library")
class BlasLibraryTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(BlasLibrary.PROPERTY);
    }

    @Test
    void aConfiguredCblasLibraryIsUsedInsteadOfTheBundledOne() {
        String bundledFile = Blas.get().libraryPath().toString(); // any real CBLAS file will do
        System.setProperty(BlasLibrary.PROPERTY, bundledFile);
        BlasLibrary.Loaded loaded = BlasLibrary.load();
        assertFalse(loaded.bundled());
        assertEquals(bundledFile, loaded.path().toString());
        assertTrue(loaded.symbols().find("cblas_sgemm").isPresent());
    }

    @Test
    void aMissingConfiguredFileIsNamed() {
        System.setProperty(BlasLibrary.PROPERTY, "/nonexistent/libblas.so");
        NativeLibraryException e = assertThrows(NativeLibraryException.class, BlasLibrary::load);
        assertTrue(e.getMessage().contains("/nonexistent/libblas.so"), e.getMessage());
        assertTrue(e.getMessage().contains(BlasLibrary.PROPERTY), e.getMessage());
    }

    @Test
    void aLibraryWithoutCblasIsRejected() {
        System.setProperty(BlasLibrary.PROPERTY, NativeLibrary.load().path().toString());
        NativeLibraryException e = assertThrows(NativeLibraryException.class, BlasLibrary::load);
        assertTrue(e.getMessage().contains("cblas_sgemv"), e.getMessage());
    }
}
