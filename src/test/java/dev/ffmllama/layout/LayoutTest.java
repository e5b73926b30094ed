package dev.ffmllama.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ffmllama.LoadOptions;
import dev.ffmllama.SessionOptions;
import dev.ffmllama.kernels.KvOrder;
import dev.ffmllama.tensor.WeightType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The --layout spec language, the split between load and session layouts, and huge-page memory. */
class LayoutTest {

    @Test
    void parsesEveryKeyAndPrintsTheSpecBack() {
        Layout l = Layout.parse(" QKV=fused, ffn=fused,matrix=transposed,kv=head-major,kv-type=f16,align=64,hugepages=on");
        assertEquals(Layout.Fusion.FUSED, l.qkv());
        assertEquals(Layout.Fusion.FUSED, l.ffn());
        assertEquals(Layout.MatrixOrder.TRANSPOSED, l.matrix());
        assertEquals(KvOrder.HEAD_MAJOR, l.kv());
        assertEquals(WeightType.F16, l.kvType());
        assertEquals(Layout.Alignment.ALIGNED_64, l.align());
        assertTrue(l.hugePages());
        assertEquals(l, Layout.parse(l.toString()));
        assertEquals("qkv=fused,ffn=fused,matrix=transposed,kv=head-major,kv-type=f16,align=64,hugepages=on", l.toString());
        assertEquals(Layout.defaults(), Layout.parse(""));
        assertEquals(Layout.defaults(), Layout.parse("default"));
        assertEquals("default", Layout.defaults().toString());
        assertEquals(Layout.defaults(), Layout.parse("qkv=fused,qkv=separate")); // later keys win
        for (Layout v : Layout.benchVariants()) assertEquals(v, Layout.parse(v.toString()));
    }

    @Test
    void badSpecsNameTheKeyAndTheValidValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Layout.parse("qkv=merged"));
        assertTrue(e.getMessage().contains("qkv=separate|fused"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Layout.parse("cache=f16"));
        assertTrue(e.getMessage().contains("unknown layout key 'cache'") && e.getMessage().contains("kv-type"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Layout.parse("fused"));
        assertTrue(e.getMessage().contains("not key=value"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Layout(Layout.Fusion.FUSED, Layout.Fusion.SEPARATE,
                Layout.MatrixOrder.ROWS, KvOrder.TOKEN_MAJOR, WeightType.Q8_0, Layout.Alignment.MAPPED, false));
    }

    @Test
    void weightKeysGoToTheLoadAndCacheKeysToTheSession() {
        Layout l = Layout.parse("qkv=fused,kv=head-major,hugepages=on");
        assertEquals(Layout.parse("qkv=fused,hugepages=on"), l.weightPart());
        assertEquals(Layout.parse("kv=head-major,hugepages=on"), l.cachePart());
        assertFalse(l.weightPart().hasCacheKeys());
        assertFalse(l.cachePart().hasWeightKeys());
        LoadOptions.defaults().withLayout(l.weightPart());
        SessionOptions.defaults().withLayout(l.cachePart());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.defaults().withLayout(l));
        assertTrue(e.getMessage().contains("SessionOptions.withLayout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SessionOptions.defaults().withLayout(l));
        assertTrue(e.getMessage().contains("LoadOptions.withLayout"), e.getMessage());
    }

    @Test
    void hugePageMemoryIsAlignedZeroedAndBackedByHugePagesWhenTheKernelAllows() throws Exception {
        Path thp = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        Assumptions.assumeTrue(Files.isReadable(thp) && !Files.readString(thp).contains("[never]"),
                "transparent huge pages are disabled on this machine");
        long before = HugePages.anonHugePagesKb();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = HugePages.allocate(arena, 8 * HugePages.SIZE);
            assertEquals(0, s.address() % HugePages.SIZE);
            assertEquals(8 * HugePages.SIZE, s.byteSize());
            for (long i = 0; i < s.byteSize(); i += 4096) {
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i));
                s.set(ValueLayout.JAVA_BYTE, i, (byte) 1); // first touch: the kernel faults in huge pages
            }
            long during = HugePages.anonHugePagesKb();
            // khugepaged-independent: faults in an advised, aligned range get huge pages unless memory is fragmented
            assertTrue(during > before, "AnonHugePages did not grow: " + before + " -> " + during + " kB");
        }
        assertEquals(0, HugePages.advise(MemorySegment.ofAddress(HugePages.SIZE + 1).reinterpret(100)));
    }
}
