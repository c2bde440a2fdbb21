package io.metalgate.gate;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * When two reports of a disk's serial number name the same disk. Tools and BMCs print serials padded with spaces (ATA
 * IDENTIFY and SCSI INQUIRY fields are fixed-width: {@code sg_inq} prints "WXF2E20DKCFL    "; sysfs and
 * {@code hdparm} pad ATA serials in front), and some BMCs change their case: so serials are compared without the
 * white space around them and regardless of case (ASCII and Unicode alike, {@link Locale#ROOT}). Nothing else is
 * forgiven — white space inside, ATA's byte-swapped pairs, a prefix a BMC adds — those serials differ, and the erase
 * is refused rather than a disk taken for another. Two serials of one inventory that compare equal are ambiguous:
 * {@link #ambiguous} names them, and no report can be shown to cover either.
 */
public final class DiskSerials {

    private DiskSerials() {
    }

    /** The form serials are compared in; empty for none (null or only white space). */
    public static Optional<String> key(String serial) {
        if (serial == null) {
            return Optional.empty();
        }
        String s = serial.strip();
        return s.isEmpty() ? Optional.empty() : Optional.of(s.toUpperCase(Locale.ROOT));
    }

    /** Whether {@code a} and {@code b} name the same disk. */
    public static boolean same(String a, String b) {
        var ka = key(a);
        return ka.isPresent() && ka.equals(key(b));
    }

    /** The serials of {@code serials} by their key (the first spelling of each key kept), blank ones left out. */
    public static Map<String, String> byKey(Collection<String> serials) {
        Map<String, String> out = new TreeMap<>();
        for (String s : serials) {
            key(s).ifPresent(k -> out.putIfAbsent(k, s));
        }
        return out;
    }

    /** Groups of distinct spellings in {@code serials} that compare equal (e.g. "abc1" and "ABC1"): each a list of 2 or more. */
    public static List<List<String>> ambiguous(Collection<String> serials) {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        for (String s : serials) {
            key(s).ifPresent(k -> {
                List<String> g = groups.computeIfAbsent(k, x -> new java.util.ArrayList<>());
                if (!g.contains(s)) {
                    g.add(s);
                }
            });
        }
        return groups.values().stream().filter(g -> g.size() > 1).map(List::copyOf).toList();
    }
}
