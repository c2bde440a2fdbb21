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

    // --- SCSI: sg_opcodes, sg_readcap -l, sg_vpd -p lbpv of real drives (SOURCE.md) ---

    private static final Policy CLEAR = new Policy(Method.CLEAR, false);

    @Test
    void aSeagateSt10000nm0226ListsSanitizeOverwriteAndCryptoEraseAndGetsCryptoErase() throws Exception {
        String listing = capture("seagate-st10000nm0226.sg_opcodes-compact.txt");
        assertEquals(java.util.Set.of(1, 3, 0x1f), Techniques.scsiSanitizeActionsListed(listing));
        var c = Techniques.choose(DiskFacts.scsi(null, listing, null, null, false), Policy.DEFAULT);
        assertEquals(Optional.of(Technique.SCSI_SANITIZE_CRYPTO), c.technique(), c.notes().toString());
        assertEquals(Method.PURGE, c.technique().get().method);
        assertFalse(c.weakerThanPolicy());
        // what the agent asked per service action says the same: the two answers together
        String perAction = "1:" + rsoc(0x03) + " 2:" + rsoc(0x01) + " 3:" + rsoc(0x03);
        assertEquals(Optional.of(Technique.SCSI_SANITIZE_CRYPTO), Techniques.choose(DiskFacts.scsi(perAction, listing, null, null, false),
                Policy.DEFAULT).technique());
    }

    /**
     * The same SANITIZE lines as other sg3_utils versions print them, built from sg_opcodes.c's printf formats (not
     * captures): before 1.42 the service action as %.4x; then %4x with a CDLP column (1.45) or "RWCDLP,CDLP" (1.48);
     * with --rctd the timeouts; and the one-command answer, whose wording changed in 1.40.
     */
    @Test
    void sanitizeLinesOfEverySg3UtilsFormat() {
        String old = "\nOpcode  Service    CDB    Name\n(hex)   action(h)  size       \n-----------------------------------------------\n"
                + " 00                  6    Test Unit Ready\n 48     0001       10    Sanitize, overwrite\n"
                + " 48     0002       10    Sanitize, block erase\n";
        assertEquals(java.util.Set.of(1, 2), Techniques.scsiSanitizeActionsListed(old));
        String cdlp = " 48        3       10    0      Sanitize, cryptographic erase\n";
        assertEquals(java.util.Set.of(3), Techniques.scsiSanitizeActionsListed(cdlp));
        String rwcdlp = " 48        2       10    0,0    Sanitize, block erase\n 48       1f       10    0,0    Sanitize, exit failure mode\n";
        assertEquals(java.util.Set.of(2, 0x1f), Techniques.scsiSanitizeActionsListed(rwcdlp));
        String rctd = " 48        1       10         -          -    Sanitize, overwrite\n";
        assertEquals(java.util.Set.of(1), Techniques.scsiSanitizeActionsListed(rctd));
        String oneOld = "  Opcode=0x48  Service_action=0x0002\n  Command_name: Sanitize, block erase\n  Command supported (conforming to SCSI standard)\n";
        assertEquals(java.util.Set.of(2), Techniques.scsiSanitizeActionsListed(oneOld));
        String oneNew = "\n  Opcode=0x48  Service_action=0x0003\n  Command_name: Sanitize, cryptographic erase\n"
                + "  Command is supported [in a vendor specific manner]\n  No command duration limit mode page\n";
        assertEquals(java.util.Set.of(3), Techniques.scsiSanitizeActionsListed(oneNew));
        String notSupported = "\n  Opcode=0x48  Service_action=0x0003\n  Command_name: Sanitize, cryptographic erase\n  Command is NOT supported\n";
        assertEquals(java.util.Set.of(), Techniques.scsiSanitizeActionsListed(notSupported));
        // a drive that lists only "exit failure mode" offers no sanitize: named as such, and a PURGE policy fails the disk
        var exitOnly = Techniques.choose(DiskFacts.scsi(null, " 48,1f     Sanitize, exit failure mode\n", null, null, false), Policy.DEFAULT);
        assertEquals(Optional.empty(), exitOnly.technique());
        assertTrue(exitOnly.notes().stream().anyMatch(n -> n.contains("SCSI SANITIZE not supported")), exitOnly.notes().toString());
    }

    @Test
    void aHitachiSasSsdPromisesZeroesAfterADiscard() throws Exception {
        String readcap = capture("hitachi-husmh842-clar100.sg_readcap-l.txt");
        assertEquals(Optional.of(new Techniques.Provisioning(true, true)), Techniques.Provisioning.parse(readcap));
        var c = Techniques.choose(DiskFacts.scsi(null, null, readcap, null, true), CLEAR);
        assertEquals(Optional.of(Technique.BLKDISCARD_ZEROES), c.technique(), c.notes().toString());
        // a discard is a CLEAR: a PURGE policy fails the disk (it reports no sanitize)
        assertEquals(Optional.empty(), Techniques.choose(DiskFacts.scsi(null, null, readcap, null, true), Policy.DEFAULT).technique());
        // the promise without a discard the kernel can send is no use
        var noDiscard = Techniques.choose(DiskFacts.scsi(null, null, readcap, null, false), CLEAR);
        assertEquals(Optional.of(Technique.OVERWRITE), noDiscard.technique());
        assertTrue(noDiscard.notes().stream().anyMatch(n -> n.contains("kernel offers no discard")), noDiscard.notes().toString());
    }

    @Test
    void aUsbDriveThatDiscardsWithoutZeroesIsOverwrittenUnlessThePolicyTrustsTheDiscard() throws Exception {
        String readcap = capture("wd-game-drive.sg_readcap-l.txt");
        String vpd = capture("wd-game-drive.sg_vpd-lbpv.txt");
        assertEquals(Optional.of(new Techniques.Provisioning(true, false)), Techniques.Provisioning.parse(readcap));
        assertEquals(Optional.of(0), Techniques.vpdLbprz(vpd));
        var c = Techniques.choose(DiskFacts.scsi(null, null, readcap, vpd, true), CLEAR);
        assertEquals(Optional.of(Technique.OVERWRITE), c.technique());
        assertTrue(c.notes().stream().anyMatch(n -> n.contains("LBPRZ 0")), c.notes().toString());
        var trusted = Techniques.choose(DiskFacts.scsi(null, null, readcap, vpd, true), new Policy(Method.CLEAR, false, true));
        assertEquals(Optional.of(Technique.BLKDISCARD_ZEROES), trusted.technique());
        assertTrue(trusted.notes().stream().anyMatch(n -> n.contains("the read-back decides")), trusted.notes().toString());
    }

    @Test
    void readCapacitySayingZeroesWhileTheVpdPageSaysOtherwiseIsNotTrusted() throws Exception {
        for (String drive : java.util.List.of("megaraid-9560-ssd", "ibm-multipath-lun")) {
            String readcap = capture(drive + ".sg_readcap-l.txt");
            String vpd = capture(drive + ".sg_vpd-lbpv.txt");
            assertEquals(Optional.of(new Techniques.Provisioning(true, true)), Techniques.Provisioning.parse(readcap), drive);
            assertEquals(Optional.of(0), Techniques.vpdLbprz(vpd), drive);
            var c = Techniques.choose(DiskFacts.scsi(null, null, readcap, vpd, true), CLEAR);
            assertEquals(Optional.of(Technique.OVERWRITE), c.technique(), drive + ": " + c.notes());
            assertTrue(c.notes().stream().anyMatch(n -> n.contains("VPD page says 0")), c.notes().toString());
            // READ CAPACITY alone would have been believed: the VPD page is what withholds it
            assertEquals(Optional.of(Technique.BLKDISCARD_ZEROES), Techniques.choose(DiskFacts.scsi(null, null, readcap, null, true), CLEAR)
                    .technique(), drive);
        }
    }

    @Test
    void aHardDiskBehindAMegaRaidDoesNotDiscard() throws Exception {
        // published with a line wrapped by the mail ("[so physical block \nlength=4096 bytes]"): the LBPME line is intact
        String readcap = capture("megaraid-9341-hdd.sg_readcap-l.txt");
        assertEquals(Optional.of(new Techniques.Provisioning(false, false)), Techniques.Provisioning.parse(readcap));
        var c = Techniques.choose(DiskFacts.scsi(null, null, readcap, capture("megaraid-9341-hdd.sg_vpd-lbpv.txt"), false),
                new Policy(Method.CLEAR, false, true));
        assertEquals(Optional.of(Technique.OVERWRITE), c.technique());
        assertTrue(c.notes().stream().anyMatch(n -> n.contains("LBPME 0")), c.notes().toString());
        // nothing readable: no promise assumed
        var unreadable = Techniques.choose(DiskFacts.scsi(null, null, "sg_readcap: not supported", null, true), CLEAR);
        assertEquals(Optional.of(Technique.OVERWRITE), unreadable.technique());
        assertTrue(unreadable.notes().stream().anyMatch(n -> n.contains("not understood")), unreadable.notes().toString());
    }
}
