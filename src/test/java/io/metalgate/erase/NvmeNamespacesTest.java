package io.metalgate.erase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.erase.Techniques.Technique;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A namespace-scoped NVMe technique never leaves another namespace or unallocated capacity behind. */
class NvmeNamespacesTest {

    static String capture(String name) throws IOException {
        return Files.readString(Path.of("src/test/resources/erase-captures", name));
    }

    @Test
    void twoNamespacesNeedASanitize() throws IOException {
        String twoNamespaces = capture("renesas-spider.nvme-list-ns-a.txt");
        assertEquals(List.of(1L, 2L), NvmeNamespaces.namespaces(twoNamespaces));
        var format = NvmeNamespaces.check(Technique.NVME_FORMAT_USER_DATA, capture("kingston-snv2s250g.nvme-id-ctrl.txt"), twoNamespaces);
        assertTrue(format.refusal().isPresent());
        assertTrue(format.refusal().get().contains("1 other namespace(s) (ids [1, 2])"), format.refusal().get());
        assertTrue(NvmeNamespaces.check(Technique.OVERWRITE, null, twoNamespaces).refusal().isPresent(), "an overwrite of nvme0n1 too");
        var sanitize = NvmeNamespaces.check(Technique.NVME_SANITIZE_BLOCK, null, twoNamespaces);
        assertTrue(sanitize.refusal().isEmpty());
        assertTrue(sanitize.notes().get(0).contains("2 namespace(s)"), sanitize.notes().toString());
    }

    @Test
    void oneNamespaceWithoutUnallocatedCapacityIsWholeDrive() throws IOException {
        String kingston = capture("kingston-snv2s250g.nvme-id-ctrl.txt");
        assertEquals(0L, NvmeNamespaces.unallocated(kingston));
        var format = NvmeNamespaces.check(Technique.NVME_FORMAT_CRYPTO, kingston, "[   0]:0x1\n");
        assertTrue(format.refusal().isEmpty());
        assertTrue(format.notes().get(0).startsWith("one namespace (id 1)"), format.notes().toString());
        // the Micron capture's `unvmcap : 0` line with another value (no public capture shows a drive with unallocated capacity)
        String micron = capture("micron-9200.nvme-id-ctrl.txt").replaceFirst("(?m)^unvmcap : 0$", "unvmcap : 400080328704");
        assertEquals(400080328704L, NvmeNamespaces.unallocated(micron));
        var left = NvmeNamespaces.check(Technique.NVME_FORMAT_USER_DATA, micron, "[   0]:0x1\n");
        assertTrue(left.refusal().get().contains("400080328704 bytes of unallocated capacity"), left.refusal().get());
    }

    @Test
    void namespacesNotListedAreNamedNotAssumed() {
        var unknown = NvmeNamespaces.check(Technique.NVME_FORMAT_USER_DATA, null, "NVMe status: Invalid Field in Command(0x2)\n");
        assertTrue(unknown.refusal().isEmpty());
        assertTrue(unknown.notes().get(0).startsWith("namespaces not determined"), unknown.notes().toString());
    }
}
