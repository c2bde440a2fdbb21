package io.metalgate.driver.ipmi;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The FRU inventory of a board (Platform Management FRU Information Storage Definition v1.0, rev 1.3): the
 * common header, then the chassis, board and product info areas, each a list of type/length-prefixed fields.
 * Pure: bytes in, fields out; a header or area whose checksum does not add up to zero is not trusted (its
 * fields stay null and the problem is named), because an inventory is what the REASSIGN gate holds a
 * certificate against.
 *
 * @param problems what could not be read (bad checksums, areas cut short); empty when all of it was
 */
public record Fru(String chassisType, String chassisPart, String chassisSerial, Instant boardMfgDate, String boardManufacturer,
        String boardProduct, String boardSerial, String boardPart, String productManufacturer, String productName, String productPart,
        String productVersion, String productSerial, String assetTag, List<String> problems) {

    /** Minutes since 1996-01-01T00:00Z: the board's manufacturing date (§11). */
    static final Instant EPOCH_1996 = Instant.parse("1996-01-01T00:00:00Z");

    /** Offsets (in bytes) of the chassis, board and product areas named by a common header; 0 for absent. */
    record Header(int chassis, int board, int product) {
    }

    /** The common header (8 bytes): its area offsets, or an exception naming what is wrong. */
    static Header header(byte[] h) {
        if (h.length < 8) {
            throw new IllegalArgumentException("the FRU common header is 8 bytes, not " + h.length);
        }
        if ((h[0] & 0x0f) != 0x01) {
            throw new IllegalArgumentException(String.format("FRU format version 0x%02x (only 0x01 is defined)", h[0] & 0xff));
        }
        if (sum(h, 0, 8) != 0) {
            throw new IllegalArgumentException("the FRU common header's checksum does not add up");
        }
        return new Header((h[2] & 0xff) * 8, (h[3] & 0xff) * 8, (h[4] & 0xff) * 8);
    }

    /** Parses a FRU image (the header at 0, the areas where it says). Never throws on malformed data. */
    public static Fru parse(byte[] fru) {
        List<String> problems = new ArrayList<>();
        Header h;
        try {
            h = header(fru.length >= 8 ? java.util.Arrays.copyOf(fru, 8) : fru);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            return new Fru(null, null, null, null, null, null, null, null, null, null, null, null, null, null, List.copyOf(problems));
        }
        List<String> chassis = area(fru, h.chassis(), "chassis", 1, 2, problems);
        List<String> board = area(fru, h.board(), "board", 4, 4, problems);
        List<String> product = area(fru, h.product(), "product", 1, 6, problems);
        String chassisType = null;
        if (chassis != null && h.chassis() + 2 < fru.length) {
            chassisType = chassisType(fru[h.chassis() + 2] & 0xff);
        }
        Instant mfg = null;
        if (board != null) {
            int minutes = (fru[h.board() + 3] & 0xff) | (fru[h.board() + 4] & 0xff) << 8 | (fru[h.board() + 5] & 0xff) << 16;
            mfg = minutes == 0 ? null : EPOCH_1996.plusSeconds(minutes * 60L); // 0: unspecified
        }
        return new Fru(chassisType, field(chassis, 0), field(chassis, 1), mfg, field(board, 0), field(board, 1), field(board, 2),
                field(board, 3), field(product, 0), field(product, 1), field(product, 2), field(product, 3), field(product, 4),
                field(product, 5), List.copyOf(problems));
    }

    /** The length in bytes of the area that starts with these two bytes (version, length in multiples of 8). */
    static int areaLength(byte[] start) {
        return (start[1] & 0xff) * 8;
    }

    /**
     * The first {@code fields} type/length fields of the area at {@code offset}, after its fixed bytes (version,
     * length, then {@code fixed} more: a chassis type, a language and a date); null when absent or untrusted.
     */
    private static List<String> area(byte[] fru, int offset, String name, int fixed, int fields, List<String> problems) {
        if (offset == 0) {
            return null;
        }
        if (offset + 2 > fru.length) {
            problems.add("the " + name + " area at " + offset + " lies beyond the FRU's " + fru.length + " bytes");
            return null;
        }
        int length = (fru[offset + 1] & 0xff) * 8;
        if (length == 0 || offset + length > fru.length) {
            problems.add("the " + name + " area at " + offset + " claims " + length + " bytes, beyond the FRU's " + fru.length);
            return null;
        }
        if (sum(fru, offset, length) != 0) {
            problems.add("the " + name + " area's checksum does not add up");
            return null;
        }
        List<String> out = new ArrayList<>();
        int at = offset + 2 + fixed;
        int end = offset + length - 1; // the checksum byte
        while (out.size() < fields && at < end) {
            int tl = fru[at] & 0xff;
            if (tl == 0xc1) {
                break; // end of fields
            }
            int len = tl & 0x3f;
            if (at + 1 + len > end) {
                problems.add("a field of the " + name + " area runs past its end");
                break;
            }
            out.add(decode(tl >> 6, fru, at + 1, len));
            at += 1 + len;
        }
        return out;
    }

    /** One field's text by its type (§13): binary, BCD plus, 6-bit packed ASCII, 8-bit Latin-1. */
    static String decode(int type, byte[] b, int from, int len) {
        String s = switch (type) {
            case 0 -> HexFormat.of().formatHex(b, from, from + len);
            case 1 -> {
                StringBuilder t = new StringBuilder();
                for (int i = from; i < from + len; i++) {
                    t.append(bcdPlus((b[i] & 0xf0) >> 4)).append(bcdPlus(b[i] & 0x0f));
                }
                yield t.toString();
            }
            case 2 -> {
                // four 6-bit characters in each three bytes, least significant bits first; a last, shorter group holds fewer
                StringBuilder t = new StringBuilder();
                for (int i = 0; i < len; i += 3) {
                    int n = Math.min(3, len - i);
                    int bits = 0;
                    for (int k = 0; k < n; k++) {
                        bits |= (b[from + i + k] & 0xff) << (8 * k);
                    }
                    for (int c = 0; c < n * 8 / 6; c++) {
                        t.append((char) (0x20 + (bits >> (6 * c) & 0x3f)));
                    }
                }
                yield t.toString();
            }
            default -> new String(b, from, len, StandardCharsets.ISO_8859_1);
        };
        // padding: BMC vendors fill fixed-width fields with NULs or spaces
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == 0 || s.charAt(end - 1) == ' ')) {
            end--;
        }
        int start = 0;
        while (start < end && s.charAt(start) == ' ') {
            start++;
        }
        String trimmed = s.substring(start, end);
        return trimmed.isEmpty() ? null : trimmed;
    }

    private static char bcdPlus(int nibble) {
        return nibble <= 9 ? (char) ('0' + nibble) : switch (nibble) {
            case 0xa -> ' ';
            case 0xb -> '-';
            case 0xc -> '.';
            default -> '?';
        };
    }

    /** SMBIOS chassis types (§10 refers to SMBIOS 3.x table 17). */
    static String chassisType(int t) {
        return switch (t) {
            case 0x01 -> "Other";
            case 0x02 -> "Unknown";
            case 0x03 -> "Desktop";
            case 0x04 -> "Low Profile Desktop";
            case 0x06 -> "Mini Tower";
            case 0x07 -> "Tower";
            case 0x11 -> "Main Server Chassis";
            case 0x17 -> "Rack Mount Chassis";
            case 0x18 -> "Sealed-case PC";
            case 0x19 -> "Multi-system Chassis";
            case 0x1c -> "Blade";
            case 0x1d -> "Blade Enclosure";
            default -> String.format("0x%02x", t);
        };
    }

    private static String field(List<String> fields, int i) {
        return fields == null || i >= fields.size() ? null : fields.get(i);
    }

    static int sum(byte[] b, int from, int len) {
        int s = 0;
        for (int i = from; i < from + len; i++) {
            s += b[i] & 0xff;
        }
        return s & 0xff;
    }

    /** The manufacturer the FRU names: the product's, else the board's. */
    public String manufacturer() {
        return productManufacturer != null ? productManufacturer : boardManufacturer;
    }

    /** The model: the product's name, else its part number, else the board's product. */
    public String model() {
        return productName != null ? productName : productPart != null ? productPart : boardProduct;
    }

    /** The system's serial number: the product's (a service tag), else the chassis's, else the board's. */
    public String serialNumber() {
        return productSerial != null ? productSerial : chassisSerial != null ? chassisSerial : boardSerial;
    }
}
