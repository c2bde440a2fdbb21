package io.metalgate.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Serials compared as tools and BMCs print them: padding and case do not matter, anything else does. */
class DiskSerialsTest {

    @Test
    void aSerialPaddedByItsToolIsTheSameDisk() throws Exception {
        // sg_inq of a real drive (erase-captures/SOURCE.md): INQUIRY's fixed-width field, 4 spaces after the serial
        String inq;
        try (var in = DiskSerialsTest.class.getResourceAsStream("/erase-captures/wd-game-drive.sg_inq.txt")) {
            inq = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        var m = Pattern.compile("Unit serial number: (.*)").matcher(inq);
        assertTrue(m.find());
        String printed = m.group(1);
        assertEquals("WXF2E20DKCFL    ", printed);
        assertTrue(DiskSerials.same(printed, "WXF2E20DKCFL"), "the agent drops the padding");
        assertTrue(DiskSerials.same("     WD-WCC4N1234567", "WD-WCC4N1234567"), "hdparm/sysfs pad ATA serials in front");
        assertTrue(DiskSerials.same("\tS3Z8NB0K123456X\n", "s3z8nb0k123456x"), "tabs, new lines and case");
        assertEquals(Optional.of("WXF2E20DKCFL"), DiskSerials.key(printed));
    }

    @Test
    void serialsThatReallyDifferStayDifferent() {
        assertFalse(DiskSerials.same("WXF2E20DKCFL", "WXF2E20DKCFM"));
        assertFalse(DiskSerials.same("AB C1", "ABC1"), "white space inside is not padding");
        assertFalse(DiskSerials.same("XW2FE0D2CKLF", "WXF2E20DKCFL"), "ATA's byte-swapped pairs are another spelling, not forgiven");
        assertFalse(DiskSerials.same("BMC-ABC1", "ABC1"));
        assertFalse(DiskSerials.same(null, null), "no serial names no disk");
        assertFalse(DiskSerials.same("   ", ""));
        assertEquals(Optional.empty(), DiskSerials.key("  \t "));
    }

    @Test
    void anInventoryWhoseSerialsCompareEqualIsAmbiguous() {
        assertEquals(List.of(List.of("abc1", "ABC1 ")), DiskSerials.ambiguous(List.of("abc1", "XYZ", "ABC1 ", "abc1")));
        assertEquals(List.of(), DiskSerials.ambiguous(List.of("ABC1", "ABC2", "  ")));
        assertEquals(Map.of("ABC1", " abc1", "ABC2", "ABC2"), DiskSerials.byKey(List.of(" abc1", "ABC2", "ABC1", "")));
    }
}
