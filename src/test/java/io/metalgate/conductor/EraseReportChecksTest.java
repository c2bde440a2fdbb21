package io.metalgate.conductor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.boot.BootService;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.conductor.EraseReports.DiskReport;
import io.metalgate.conductor.EraseReports.Report;
import io.metalgate.conductor.EraseReports.Verification;
import io.metalgate.driver.api.Inventory;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The pure checks of an erase report: serials against the inventory, the agent's times against what the appliance saw. */
class EraseReportChecksTest {

    static final Instant ISSUED = Instant.parse("2026-12-06T10:00:00Z");
    static final Instant RECEIVED = Instant.parse("2026-12-06T10:20:00Z");
    static final Duration SKEW = Duration.ofMinutes(2);

    static DiskReport disk(String serial, Instant start, Instant end) {
        return new DiskReport(serial, "m", 1L << 30, "NVME_SANITIZE_BLOCK", "nvme", "2.4", new Verification("read-back", 256, true, true, 0L, true),
                start, end, "SUCCESS");
    }

    static Report report(DiskReport... disks) {
        return new Report(List.of(disks));
    }

    /** An EraseReports whose policy is PURGE, no weaker method (the defaults). */
    static EraseReports reports() {
        var erase = (MetalgateConfig.Erase) Proxy.newProxyInstance(EraseReportChecksTest.class.getClassLoader(), new Class<?>[] {MetalgateConfig.Erase.class},
                (p, m, a) -> switch (m.getName()) {
                    case "minimumMethod" -> "PURGE";
                    case "allowWeaker", "trustDiscard" -> false;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        var config = (MetalgateConfig) Proxy.newProxyInstance(EraseReportChecksTest.class.getClassLoader(), new Class<?>[] {MetalgateConfig.class},
                (p, m, a) -> {
                    if (m.getName().equals("erase")) {
                        return erase;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
        var r = new EraseReports();
        r.config = config;
        return r;
    }

    static Inventory inventory(String... serials) {
        return new Inventory("x", "y", "z", List.of(), List.of(), java.util.Arrays.stream(serials)
                .map(s -> new Inventory.Disk("d-" + s, "m", s, 1L << 30, "NVMe", "SSD", "Enabled")).toList(), List.of());
    }

    // --- serials ---

    @Test
    void aReportCoversInventorySerialsPaddedOrInAnotherCase() {
        Instant t = ISSUED.plusSeconds(60);
        var refusals = reports().refusals(inventory("  WXF2E20DKCFL    ", "s3z8nb0k123456x"), report(disk("WXF2E20DKCFL", t, t), disk("S3Z8NB0K123456X", t, t)));
        assertEquals(List.of(), refusals);
    }

    /** A disk the BMC lists without a serial is not a disk less: no report covers it, and REASSIGN sees it uncertified. */
    @Test
    void aDiskListedWithoutASerialIsNeverCoveredByAReport() {
        Instant t = ISSUED.plusSeconds(60);
        for (String none : new String[] {null, "", "   "}) {
            var refusals = reports().refusals(inventory("WXF2E20DKCFL", none), report(disk("WXF2E20DKCFL", t, t)));
            assertTrue(refusals.stream().anyMatch(r -> r.contains("without a serial number: no report can be shown to cover it")),
                    refusals.toString());
        }
        var serials = GateFacts.diskSerials("{\"disks\":[{\"id\":\"0\",\"serialNumber\":\"S1\"},{\"id\":\"1\",\"serialNumber\":\" \"},"
                + "{\"id\":\"2\"}]}");
        assertEquals(3, serials.size(), serials.toString());
        assertTrue(!new io.metalgate.gate.Facts.CertificateFact(java.util.Set.of("S1"), true).diskSerials().containsAll(serials));
    }

    @Test
    void serialsThatReallyDifferAreStillRefused() {
        Instant t = ISSUED.plusSeconds(60);
        var refusals = reports().refusals(inventory("WXF2E20DKCFL", "S3Z8NB0K123456X"), report(disk("WXF2E20DKCFL", t, t), disk("S3Z8NB0K123456Y", t, t)));
        assertTrue(refusals.contains("disk S3Z8NB0K123456Y is not in the machine's inventory"), refusals.toString());
        assertTrue(refusals.contains("disks [S3Z8NB0K123456X] of the inventory are not in the report"), refusals.toString());
        // one disk reported twice in two spellings covers it once, and is named
        var twice = reports().refusals(inventory("ABC1"), report(disk("ABC1", t, t), disk(" abc1", t, t)));
        assertTrue(twice.contains("disk  abc1 reported twice"), twice.toString());
    }

    @Test
    void anInventoryWhoseSerialsDifferOnlyInCaseCannotBeCovered() {
        Instant t = ISSUED.plusSeconds(60);
        var refusals = reports().refusals(inventory("abc1", "ABC1"), report(disk("ABC1", t, t)));
        assertTrue(refusals.stream().anyMatch(r -> r.contains("differ only in case")), refusals.toString());
    }

    @Test
    void theChosenTechniqueIsFoundUnderAnotherSpellingOfItsSerial() {
        var token = new BootService.Token(UUID.randomUUID(), "52:54:00:00:00:01", "10.0.0.2", ISSUED, ISSUED.plusSeconds(3600), null, true);
        Instant t = ISSUED.plusSeconds(60);
        assertEquals(List.of(), EraseReports.proofRefusals(token, Map.of("abc1 ", "NVME_SANITIZE_BLOCK"), report(disk("ABC1", t, t))));
        assertEquals(List.of("disk ABC1: erased with NVME_SANITIZE_BLOCK, not with OVERWRITE that the appliance chose"),
                EraseReports.proofRefusals(token, Map.of("abc1", "OVERWRITE"), report(disk("ABC1", t, t))));
    }

    // --- times ---

    @Test
    void timesWithinTheWindowTheApplianceSawAreAccepted() {
        assertEquals(List.of(), EraseReports.timeRefusals(report(disk("A", ISSUED.plusSeconds(30), RECEIVED.minusSeconds(5)),
                disk("B", ISSUED.minusSeconds(90), RECEIVED.plusSeconds(100)), disk("C", ISSUED, ISSUED)), ISSUED, RECEIVED, SKEW));
    }

    @Test
    void anEndBeforeItsStartIsRefused() {
        var r = EraseReports.timeRefusals(report(disk("A", ISSUED.plusSeconds(600), ISSUED.plusSeconds(300))), ISSUED, RECEIVED, SKEW);
        assertEquals(List.of("disk A: ended at 2026-12-06T10:05:00Z, before it started at 2026-12-06T10:10:00Z"), r);
    }

    @Test
    void aStartBeforeTheTokenWasIssuedIsRefused() {
        // an RTC kept in local time two hours behind, or a report made up from an earlier erase
        var r = EraseReports.timeRefusals(report(disk("A", ISSUED.minusSeconds(7200), ISSUED.minusSeconds(7000))), ISSUED, RECEIVED, SKEW);
        assertEquals(List.of("disk A: started at 2026-12-06T08:00:00Z, before its agent's token was issued at 2026-12-06T10:00:00Z"), r);
        // just beyond the skew
        assertEquals(1, EraseReports.timeRefusals(report(disk("A", ISSUED.minus(SKEW).minusSeconds(1), ISSUED)), ISSUED, RECEIVED, SKEW).size());
    }

    @Test
    void timesInTheFutureAreRefused() {
        var r = EraseReports.timeRefusals(report(disk("A", ISSUED.plusSeconds(60), RECEIVED.plus(SKEW).plusSeconds(1)),
                disk("B", RECEIVED.plusSeconds(3600), RECEIVED.plusSeconds(7200))), ISSUED, RECEIVED, SKEW);
        assertEquals(List.of("disk A: ended at 2026-12-06T10:22:01Z, after the report was received at 2026-12-06T10:20:00Z",
                "disk B: ended at 2026-12-06T12:20:00Z, after the report was received at 2026-12-06T10:20:00Z"), r);
    }

    @Test
    void disksWithoutTimesAreLeftToTheOtherChecks() {
        assertEquals(List.of(), EraseReports.timeRefusals(report(disk("A", null, null)), ISSUED, RECEIVED, SKEW));
        Instant t = ISSUED.plusSeconds(60);
        assertTrue(reports().refusals(inventory("A"), report(disk("A", null, t))).contains("disk A: no start and end"));
    }
}
