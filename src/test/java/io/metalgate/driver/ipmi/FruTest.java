package io.metalgate.driver.ipmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The FRU codec against a real server's FRU image (a Dell R630, src/test/resources/ipmi-fru/SOURCE.md) and built vectors. */
class FruTest {

    static byte[] dellR630() throws Exception {
        try (var in = FruTest.class.getResourceAsStream("/ipmi-fru/dell-r630.hex")) {
            return HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).replaceAll("\\s", ""));
        }
    }

    @Test
    void aDellR630SaysWhatIpmitoolSays() throws Exception {
        Fru f = Fru.parse(dellR630());
        assertEquals(java.util.List.of(), f.problems());
        assertEquals(Instant.parse("2015-07-23T14:31:00Z"), f.boardMfgDate());
        assertEquals("DELL", f.boardManufacturer()); // 6-bit packed ASCII
        assertNull(f.boardProduct(), "30 spaces");
        assertEquals("CN7475157N0560", f.boardSerial());
        assertEquals("0CNCJWA08", f.boardPart());
        assertEquals("DELL", f.productManufacturer());
        assertNull(f.productName(), "a space and NULs");
        assertEquals("01", f.productVersion());
        assertEquals("95SF082", f.productSerial());
        assertNull(f.assetTag());
        assertNull(f.chassisType(), "no chassis area");
        assertEquals("DELL", f.manufacturer());
        assertEquals("95SF082", f.serialNumber());
    }

    @Test
    void anAreaWhoseChecksumFailsIsNotTrusted() throws Exception {
        byte[] b = dellR630();
        b[256 + 50] ^= 0x01; // inside the product area (serial number)
        Fru f = Fru.parse(b);
        assertNull(f.productSerial());
        assertEquals("CN7475157N0560", f.serialNumber(), "the board's serial, which still adds up");
        assertTrue(f.problems().get(0).contains("product area's checksum"), f.problems().toString());
        b[3] ^= 0x01;
        Fru none = Fru.parse(b);
        assertNull(none.serialNumber());
        assertTrue(none.problems().get(0).contains("common header"), none.problems().toString());
    }

    /** A chassis area and every field type, built by the spec's rules. */
    @Test
    void everyFieldTypeDecodes() {
        ByteArrayOutputStream chassis = new ByteArrayOutputStream();
        chassis.write(0x01);
        chassis.write(0); // length, set below
        chassis.write(0x17); // rack mount chassis
        chassis.write(0x43); // BCD plus, 3 bytes: "12-.34"? nibbles 1 2 b c 3 4
        chassis.writeBytes(new byte[] { 0x12, (byte) 0xbc, 0x34 });
        chassis.write(0x00 | 2); // binary, 2 bytes
        chassis.writeBytes(new byte[] { (byte) 0xbe, (byte) 0xef });
        chassis.write(0xc1);
        byte[] c = pad(chassis.toByteArray());
        byte[] header = { 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };
        header[7] = (byte) -Fru.sum(header, 0, 7);
        byte[] all = new byte[8 + c.length];
        System.arraycopy(header, 0, all, 0, 8);
        System.arraycopy(c, 0, all, 8, c.length);
        Fru f = Fru.parse(all);
        assertEquals(java.util.List.of(), f.problems());
        assertEquals("Rack Mount Chassis", f.chassisType());
        assertEquals("12-.34", f.chassisPart());
        assertEquals("beef", f.chassisSerial());
        assertEquals("beef", f.serialNumber());
        // 6-bit packed: "DELL" in three bytes, and a shorter last group
        assertEquals("DELL", Fru.decode(2, new byte[] { 0x64, (byte) 0xc9, (byte) 0xb2 }, 0, 3));
        assertEquals("DELLD", Fru.decode(2, new byte[] { 0x64, (byte) 0xc9, (byte) 0xb2, 0x24 }, 0, 4));
    }

    @Test
    void noInputMakesItThrow() {
        Random r = new Random(12);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[r.nextInt(300)];
            r.nextBytes(b);
            if (b.length >= 8 && r.nextBoolean()) {
                b[0] = 0x01;
                b[7] = 0;
                b[7] = (byte) -Fru.sum(b, 0, 8);
            }
            Fru.parse(b);
        }
    }

    private static byte[] pad(byte[] area) {
        int len = (area.length + 1 + 7) / 8 * 8;
        byte[] out = java.util.Arrays.copyOf(area, len);
        out[1] = (byte) (len / 8);
        out[len - 1] = (byte) -Fru.sum(out, 0, len - 1);
        return out;
    }
}
