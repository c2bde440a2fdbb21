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

    /** REPORT SUPPORTED OPERATION CODES, one command (SPC-4 6.35.3): byte 1 bits 2–0 SUPPORT, bytes 2–3 the CDB size, its usage map. */
    private static String rsoc(int support) {
        return String.format("00%02x000a48ff0000000000ff0000", support); // SANITIZE is a 10-byte CDB
    }

    @Test
    void scsiSanitizeIsWhatTheDriveSaysOfEachServiceAction() {
        // block erase and overwrite supported (block erase vendor-specific, with the CTDP bit), crypto not: block erase
        String blockAndOverwrite = "1:" + rsoc(0x03) + " 2:" + rsoc(0x85) + " 3:" + rsoc(0x01);
        var c = Techniques.choose(new DiskFacts("SCSI", null, null, false, false, false, blockAndOverwrite), Policy.DEFAULT);
        assertEquals(Optional.of(Technique.SCSI_SANITIZE_BLOCK), c.technique());
        assertEquals(java.util.Set.of(1, 2), Techniques.scsiSanitizeActions(blockAndOverwrite));
        // every action supported: crypto erase, the strongest
        assertEquals(Optional.of(Technique.SCSI_SANITIZE_CRYPTO), Techniques.choose(new DiskFacts("SCSI", null, null, false, false, false,
                "1:" + rsoc(0x03) + " 2:" + rsoc(0x03) + " 3:" + rsoc(0x03)), Policy.DEFAULT).technique());
        // none supported, not known now (000b), or no answer at all (sg_opcodes failed): no sanitize; a PURGE policy fails the disk
        for (String none : java.util.List.of("1:" + rsoc(0x01) + " 2:" + rsoc(0x01) + " 3:" + rsoc(0x00), "1: 2: 3:", "1:zz 2:0 3:")) {
            var n = Techniques.choose(new DiskFacts("SCSI", null, null, false, false, false, none), Policy.DEFAULT);
            assertEquals(Optional.empty(), n.technique(), none);
            assertTrue(n.notes().stream().anyMatch(x -> x.contains("SCSI SANITIZE not supported")), n.notes().toString());
            assertEquals(Optional.of(Technique.OVERWRITE), Techniques.choose(new DiskFacts("SCSI", null, null, false, false, false, none),
                    new Policy(Method.CLEAR, false)).technique());
        }
    }

    @Test
    void aDiscardWithoutZeroesIsOfferedOnlyWhenThePolicyTrustsIt() {
        var d = new DiskFacts("VIRTIO", null, null, false, false, true);
        assertEquals(Optional.of(Technique.OVERWRITE), Techniques.choose(d, new Policy(Method.CLEAR, false)).technique());
        var trusted = Techniques.choose(d, new Policy(Method.CLEAR, false, true));
        assertEquals(Optional.of(Technique.BLKDISCARD_ZEROES), trusted.technique());
        assertTrue(trusted.notes().stream().anyMatch(n -> n.contains("the read-back decides")), trusted.notes().toString());
        // no discard support: nothing to trust
        assertEquals(Optional.of(Technique.OVERWRITE), Techniques.choose(new DiskFacts("VIRTIO", null, null, false, false, false),
                new Policy(Method.CLEAR, false, true)).technique());
    }
}
