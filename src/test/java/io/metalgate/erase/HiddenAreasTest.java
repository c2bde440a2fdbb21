package io.metalgate.erase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What HPA and DCO outputs of real drives (erase-captures/SOURCE.md) make the agent do before it erases. */
class HiddenAreasTest {

    static String capture(String name) throws IOException {
        return Files.readString(Path.of("src/test/resources/erase-captures", name));
    }

    @Test
    void aHostProtectedAreaIsOpenedBeforeTheErase() throws IOException {
        var plan = HiddenAreas.plan(capture("forensicswiki-sdc.hdparm-N.txt"), null, false);
        assertTrue(plan.refusal().isEmpty());
        assertEquals(List.of("SET_MAX:586072368"), plan.steps());
        assertTrue(plan.notes().get(0).contains("Host Protected Area of 2113 sectors"), plan.notes().toString());
    }

    @Test
    void noHiddenAreaMeansNoStep() throws IOException {
        var plan = HiddenAreas.plan(capture("forensicswiki-sda.hdparm-N.txt"), capture("forensicswiki-sda.hdparm-dco-identify.txt"), false);
        assertEquals(List.of(), plan.steps());
        assertTrue(plan.refusal().isEmpty());
        assertTrue(plan.notes().get(0).contains("no hidden area: 1465149168 of 1465149168"), plan.notes().toString());
        assertEquals(1465149168L, HiddenAreas.parse(null, capture("forensicswiki-sda.hdparm-dco-identify.txt")).dcoRealMax());
        assertEquals(5860533168L, HiddenAreas.parse(null, capture("seagate-st3000vx000-sdh.hdparm-dco-identify.txt")).dcoRealMax());
    }

    /** The WD drive's DCO (real max 976,773,168) against what its kernel saw (976,717,824): the -N line in hdparm's format. */
    @Test
    void sectorsADcoHidesFailTheDiskUnlessThePolicyRestoresIt() throws IOException {
        String n = " max sectors   = 976717824/976717824, HPA is disabled\n";
        String dco = capture("wdc-wd5000bmvv.hdparm-dco-identify.txt");
        var refused = HiddenAreas.plan(n, dco, false);
        assertTrue(refused.refusal().isPresent());
        assertTrue(refused.refusal().get().contains("hides 55344 sectors"), refused.refusal().get());
        assertEquals(List.of(), refused.steps());
        var restored = HiddenAreas.plan(n, dco, true);
        assertTrue(restored.refusal().isEmpty());
        assertEquals(List.of("DCO_RESTORE", "SET_MAX:976773168"), restored.steps());
    }

    /** Lines in hdparm.c's formats: an Accessible Max Address below native, and an invalid HPA setting. */
    @Test
    void accessibleMaxAddressAndInvalidSettings() {
        var ama = HiddenAreas.plan(" max sectors   = 1000/2000, ACCESSIBLE MAX ADDRESS enabled\nPower cycle your device after every ACCESSIBLE MAX ADDRESS\n",
                null, false);
        assertEquals(List.of("SET_MAX:2000"), ama.steps());
        assertTrue(ama.notes().get(0).startsWith("Accessible Max Address of 1000 sectors"), ama.notes().toString());
        var invalid = HiddenAreas.plan(" max sectors   = 3000/2000(2000?), HPA setting seems invalid\n", null, false);
        assertTrue(invalid.refusal().isPresent());
        var unknown = HiddenAreas.plan("/dev/sda:\n SG_IO: bad/missing sense data, sb[]:  70 00 05 00\n", null, false);
        assertTrue(unknown.refusal().isEmpty());
        assertEquals(List.of(), unknown.steps());
        assertTrue(unknown.notes().get(0).startsWith("hidden areas not determined"), unknown.notes().toString());
    }
}
