package io.metalgate.erase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.erase.Techniques.DiskFacts;
import io.metalgate.erase.Techniques.Method;
import io.metalgate.erase.Techniques.Policy;
import io.metalgate.erase.Techniques.Technique;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The technique choice against what real drives' tools printed (src/test/resources/erase-captures/SOURCE.md). */
class TechniquesTest {

    static String capture(String name) throws Exception {
        try (var in = TechniquesTest.class.getResourceAsStream("/erase-captures/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static DiskFacts nvme(String file) throws Exception {
        return new DiskFacts("NVME", capture(file), null, false, false);
    }

    static DiskFacts ata(String file) throws Exception {
        return new DiskFacts("ATA", null, capture(file), false, false);
    }

    @Test
    void aKingstonNv2GetsBlockEraseSanitize() throws Exception {
        var c = Techniques.choose(nvme("kingston-snv2s250g.nvme-id-ctrl.txt"), Policy.DEFAULT);
        assertEquals(Optional.of(Technique.NVME_SANITIZE_BLOCK), c.technique(), c.notes().toString());
        assertEquals(Method.PURGE, c.technique().get().method);
        assertFalse(c.weakerThanPolicy());
        assertEquals(0xa0000002L, Techniques.field(capture("kingston-snv2s250g.nvme-id-ctrl.txt"), "sanicap").orElseThrow());
    }

    @Test
    void aMicron9200WithoutSanitizeOrCryptoFormatIsOnlyAClearAndFailsAPurgePolicy() throws Exception {
        var purge = Techniques.choose(nvme("micron-9200.nvme-id-ctrl.txt"), Policy.DEFAULT);
        assertEquals(Optional.empty(), purge.technique(), "never silently weaker: " + purge.notes());
        assertTrue(purge.weakerThanPolicy());
        assertTrue(purge.notes().stream().anyMatch(n -> n.contains("SANICAP 0")), purge.notes().toString());
        var allowed = Techniques.choose(nvme("micron-9200.nvme-id-ctrl.txt"), new Policy(Method.PURGE, true));
        assertEquals(Optional.of(Technique.NVME_FORMAT_USER_DATA), allowed.technique());
        assertTrue(allowed.weakerThanPolicy(), "recorded as weaker");
        assertEquals(Optional.of(Technique.NVME_FORMAT_USER_DATA), Techniques.choose(nvme("micron-9200.nvme-id-ctrl.txt"),
                new Policy(Method.CLEAR, false)).technique());
    }

    @Test
    void ataDrivesByTheirSecuritySection() throws Exception {
        assertEquals(Optional.of(Technique.ATA_SECURITY_ERASE_ENHANCED), Techniques.choose(ata("samsung-hm500ji.hdparm-I.txt"),
                Policy.DEFAULT).technique());
        var plain = Techniques.choose(ata("no-enhanced.hdparm-I.txt"), new Policy(Method.CLEAR, false));
        assertEquals(Optional.of(Technique.ATA_SECURITY_ERASE), plain.technique());
        assertTrue(plain.notes().stream().anyMatch(n -> n.contains("enhanced security erase not supported")));
        // frozen: named as such, and the overwrite is what is left (a PURGE policy fails the disk)
        var frozen = Techniques.choose(ata("tkperf-29-frozen.hdparm-I.txt"), Policy.DEFAULT);
        assertEquals(Optional.empty(), frozen.technique());
        assertTrue(frozen.notes().stream().anyMatch(n -> n.contains("frozen")), frozen.notes().toString());
        assertEquals(Optional.of(Technique.OVERWRITE), Techniques.choose(ata("tkperf-29-frozen.hdparm-I.txt"), new Policy(Method.CLEAR, false))
                .technique());
    }

    @Test
    void discardOnlyWhereZeroesAreGuaranteedAndScsiSanitize() {
        assertEquals(Optional.of(Technique.BLKDISCARD_ZEROES), Techniques.choose(new DiskFacts("VIRTIO", null, null, false, true),
                new Policy(Method.CLEAR, false)).technique());
        assertEquals(Optional.of(Technique.OVERWRITE), Techniques.choose(new DiskFacts("VIRTIO", null, null, false, false),
                new Policy(Method.CLEAR, false)).technique());
        assertEquals(Optional.of(Technique.SCSI_SANITIZE_CRYPTO), Techniques.choose(new DiskFacts("SCSI", null, null, true, false),
                Policy.DEFAULT).technique());
    }
}
