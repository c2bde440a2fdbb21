package io.metalgate.erase;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The strongest erase technique a disk reports it supports: a pure function of what its tools print (NVMe
 * {@code nvme id-ctrl}; ATA {@code hdparm -I}; SCSI: the SANITIZE service actions of {@code sg_opcodes}, LBPME/LBPRZ of
 * {@code sg_readcap -l} and {@code sg_vpd -p lbpv}) and a policy. NVMe sanitize (crypto,
 * block, overwrite, by SANICAP), NVMe Format with the Secure Erase Setting (crypto when FNA says so, else user data),
 * ATA security erase (enhanced when offered; a frozen drive is named as such, not used), SCSI sanitize, blkdiscard
 * only where the device guarantees zeroes after a discard, overwrite last. A technique weaker than the policy's
 * method fails the disk, or is used with the fact recorded, as the policy says: never silently.
 */
public final class Techniques {

    /** NIST SP 800-88 Rev. 2 methods, weakest first. */
    public enum Method {
        CLEAR, PURGE
    }

    /** The techniques, strongest first; each with its method and IEEE 2883 technique, and the tool that runs it. */
    public enum Technique {
        NVME_SANITIZE_CRYPTO(Method.PURGE, "Cryptographic Erase", "nvme sanitize --sanact=4"),
        NVME_SANITIZE_BLOCK(Method.PURGE, "Block Erase", "nvme sanitize --sanact=2"),
        NVME_FORMAT_CRYPTO(Method.PURGE, "Cryptographic Erase", "nvme format --ses=2"),
        SCSI_SANITIZE_CRYPTO(Method.PURGE, "Cryptographic Erase", "sg_sanitize --crypto"),
        SCSI_SANITIZE_BLOCK(Method.PURGE, "Block Erase", "sg_sanitize --block"),
        NVME_SANITIZE_OVERWRITE(Method.PURGE, "Overwrite", "nvme sanitize --sanact=3"),
        SCSI_SANITIZE_OVERWRITE(Method.PURGE, "Overwrite", "sg_sanitize --overwrite"),
        ATA_SECURITY_ERASE_ENHANCED(Method.PURGE, "Overwrite", "hdparm --security-erase-enhanced"),
        NVME_FORMAT_USER_DATA(Method.CLEAR, "Overwrite", "nvme format --ses=1"),
        ATA_SECURITY_ERASE(Method.CLEAR, "Overwrite", "hdparm --security-erase"),
        BLKDISCARD_ZEROES(Method.CLEAR, "Block Erase", "blkdiscard"),
        OVERWRITE(Method.CLEAR, "Overwrite", "dd if=/dev/zero");

        public final Method method;
        public final String ieee2883;
        public final String tool;

        Technique(Method method, String ieee2883, String tool) {
            this.method = method;
            this.ieee2883 = ieee2883;
            this.tool = tool;
        }
    }

    /**
     * What the agent found of one disk: its transport and what the tools printed (null where a tool does not apply).
     *
     * <p>{@code scsiSanitizeSupport}: what a SCSI drive answered to REPORT SUPPORTED OPERATION CODES for SANITIZE (0x48)
     * and each service action, as the agent sends it ("1:HEX 2:HEX 3:HEX": {@code sg_opcodes -n -r -o 0x48,SA} in hex;
     * SA 1 overwrite, 2 block erase, 3 cryptographic erase); {@code scsiSanitize} true offers all three (a caller that
     * knows no more). {@code sgOpcodes}: what {@code sg_opcodes} printed (every supported command, in any of the
     * formats sg3_utils versions print, or the one-command form). {@code sgReadcap}: what {@code sg_readcap -l} printed
     * (LBPME, LBPRZ: whether the drive discards and reads zeroes from what it discarded); {@code sgVpdLbpv}: what
     * {@code sg_vpd -p lbpv} printed (its LBPRZ field, checked against READ CAPACITY's).
     */
    public record DiskFacts(String transport, String nvmeIdCtrl, String hdparmI, boolean scsiSanitize, boolean discardZeroes,
            boolean discardSupported, String scsiSanitizeSupport, String sgOpcodes, String sgReadcap, String sgVpdLbpv) {

        public DiskFacts(String transport, String nvmeIdCtrl, String hdparmI, boolean scsiSanitize, boolean discardZeroes) {
            this(transport, nvmeIdCtrl, hdparmI, scsiSanitize, discardZeroes, false, null);
        }

        public DiskFacts(String transport, String nvmeIdCtrl, String hdparmI, boolean scsiSanitize, boolean discardZeroes,
                boolean discardSupported) {
            this(transport, nvmeIdCtrl, hdparmI, scsiSanitize, discardZeroes, discardSupported, null);
        }

        public DiskFacts(String transport, String nvmeIdCtrl, String hdparmI, boolean scsiSanitize, boolean discardZeroes,
                boolean discardSupported, String scsiSanitizeSupport) {
            this(transport, nvmeIdCtrl, hdparmI, scsiSanitize, discardZeroes, discardSupported, scsiSanitizeSupport, null, null, null);
        }

        /** A SCSI disk as the agent reports it: what its sg3_utils tools printed, and whether the kernel discards on it. */
        public static DiskFacts scsi(String sanitizeSupport, String sgOpcodes, String sgReadcap, String sgVpdLbpv, boolean discardSupported) {
            return new DiskFacts("SCSI", null, null, false, false, discardSupported, sanitizeSupport, sgOpcodes, sgReadcap, sgVpdLbpv);
        }
    }

    /**
     * The SANITIZE service actions a SCSI drive reports as supported: the one-command parameter data of REPORT
     * SUPPORTED OPERATION CODES (SPC-4 6.35.3), byte 1 bits 2–0 SUPPORT: 011b supported as the standard says, 101b
     * supported in a vendor-specific manner; 001b not supported, 000b not known now. Anything unreadable: not
     * supported.
     */
    static java.util.Set<Integer> scsiSanitizeActions(String support) {
        java.util.Set<Integer> out = new java.util.TreeSet<>();
        if (support == null) {
            return out;
        }
        for (String part : support.trim().split("\\s+")) {
            int colon = part.indexOf(':');
            if (colon < 1) {
                continue;
            }
            try {
                int sa = Integer.parseInt(part.substring(0, colon));
                String hex = part.substring(colon + 1);
                if (hex.length() < 4) {
                    continue;
                }
                int supportField = Integer.parseInt(hex.substring(2, 4), 16) & 0x07;
                if (supportField == 0b011 || supportField == 0b101) {
                    out.add(sa);
                }
            } catch (NumberFormatException e) {
                // not a response: not supported
            }
        }
        return out;
    }

    private static final java.util.regex.Pattern COMPACT = java.util.regex.Pattern.compile("^\\s*48,([0-9a-fA-F]{1,4})\\s");
    private static final java.util.regex.Pattern NAMED = java.util.regex.Pattern.compile(
            "^\\s*48\\s.*\\bSanitize, (overwrite|block erase|cryptographic erase|exit failure mode)\\s*$");
    private static final java.util.regex.Pattern ONE_COMMAND = java.util.regex.Pattern.compile("Opcode=0x48\\s+Service_action=0x([0-9a-fA-F]{1,4})");
    private static final java.util.regex.Pattern ONE_SUPPORTED = java.util.regex.Pattern.compile("^\\s*Command (?:is )?supported\\b");

    /**
     * The SANITIZE service actions {@code sg_opcodes} lists as supported. The list of all commands names only those the
     * drive supports; its lines differ across sg3_utils versions: {@code " 48,1      Sanitize, overwrite"} (compact,
     * {@code --compact}), {@code " 48     0001       10    Sanitize, overwrite"} (before 1.42, the service action as
     * {@code %.4x}), {@code " 48        1       10    0,0    Sanitize, overwrite"} (later, {@code %4x} and the CDLP
     * columns), with timeouts ({@code --rctd}): so a line is read by its compact service action or its name, not by
     * column. The one-command form ({@code -o 0x48,SA}: "Opcode=0x48  Service_action=0x0003" then "Command is
     * supported [conforming to SCSI standard]", before 1.40 "Command supported (conforming to SCSI standard)") counts
     * when the drive said supported.
     */
    static java.util.Set<Integer> scsiSanitizeActionsListed(String sgOpcodes) {
        java.util.Set<Integer> out = new java.util.TreeSet<>();
        if (sgOpcodes == null) {
            return out;
        }
        Integer asked = null; // the service action of a one-command answer being read
        for (String line : sgOpcodes.split("\\R")) {
            var compact = COMPACT.matcher(line);
            var named = NAMED.matcher(line);
            var one = ONE_COMMAND.matcher(line);
            if (compact.find()) {
                out.add(Integer.parseInt(compact.group(1), 16));
            } else if (named.find()) {
                out.add(switch (named.group(1)) {
                    case "overwrite" -> 1;
                    case "block erase" -> 2;
                    case "cryptographic erase" -> 3;
                    default -> 0x1f;
                });
            } else if (one.find()) {
                asked = Integer.parseInt(one.group(1), 16);
            } else if (asked != null && ONE_SUPPORTED.matcher(line).find()) {
                out.add(asked);
                asked = null;
            }
        }
        return out;
    }

    /** READ CAPACITY (16) as {@code sg_readcap -l} prints it: LBPME (the drive provisions, so discards) and LBPRZ (it reads zeroes there). */
    record Provisioning(boolean lbpme, boolean lbprz) {

        private static final java.util.regex.Pattern LINE = java.util.regex.Pattern.compile("\\blbpme=([01]),\\s*lbprz=([01])\\b");

        static Optional<Provisioning> parse(String sgReadcap) {
            if (sgReadcap == null) {
                return Optional.empty();
            }
            var m = LINE.matcher(sgReadcap);
            return m.find() ? Optional.of(new Provisioning(m.group(1).equals("1"), m.group(2).equals("1"))) : Optional.empty();
        }
    }

    private static final java.util.regex.Pattern VPD_LBPRZ = java.util.regex.Pattern.compile("\\(LBPRZ\\):\\s*(\\d+)|\\bLBPRZ=(\\d+)");

    /** The LBPRZ field of the Logical Block Provisioning VPD page as {@code sg_vpd -p lbpv} prints it (SBC-4: 3 bits, 1 = zeroes). */
    static Optional<Integer> vpdLbprz(String sgVpdLbpv) {
        if (sgVpdLbpv == null) {
            return Optional.empty();
        }
        var m = VPD_LBPRZ.matcher(sgVpdLbpv);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2))) : Optional.empty();
    }

    /**
     * Whether a discard leaves zeroes on this disk. A SCSI disk says so itself: READ CAPACITY (16) with LBPME and LBPRZ
     * set, the kernel offering discards on it, and the VPD page not saying otherwise. Where the VPD page's LBPRZ is 0
     * beside READ CAPACITY's 1 (seen on real devices: a SATA SSD behind a MegaRAID, a storage array's LUN) the promise
     * is in doubt — devices made before SBC-3 r27 leave that field 0, others disagree with themselves — and it is not
     * taken: the discard is then what {@code trust-discard} allows, with the read-back deciding. Other transports: as
     * the caller says.
     */
    static boolean discardZeroes(DiskFacts d, String transport, List<String> notes) {
        if (!transport.equals("SCSI") || d.sgReadcap() == null) {
            return d.discardZeroes();
        }
        var p = Provisioning.parse(d.sgReadcap());
        if (p.isEmpty()) {
            notes.add("READ CAPACITY (16) not understood: no zeroing after a discard assumed");
            return false;
        }
        if (!p.get().lbpme()) {
            notes.add("no logical block provisioning (LBPME 0): the drive does not discard");
            return false;
        }
        if (!p.get().lbprz()) {
            notes.add("discards do not promise zeroes (LBPRZ 0)");
            return false;
        }
        var vpd = vpdLbprz(d.sgVpdLbpv());
        if (vpd.isPresent() && vpd.get() != 1) {
            notes.add("READ CAPACITY says LBPRZ 1 but the logical block provisioning VPD page says " + vpd.get()
                    + ": zeroes after a discard not assumed");
            return false;
        }
        if (!d.discardSupported()) {
            notes.add("the drive promises zeroes after a discard (LBPRZ 1) but the kernel offers no discard on it");
            return false;
        }
        return true;
    }

    /** {@code minimum}: the method a disk must get; {@code allowWeaker}: use a weaker one (recorded) instead of failing the disk. */
    public record Policy(Method minimum, boolean allowWeaker, boolean trustDiscard) {

        public static final Policy DEFAULT = new Policy(Method.PURGE, false, false);

        public Policy(Method minimum, boolean allowWeaker) {
            this(minimum, allowWeaker, false);
        }
    }

    /** The technique (empty: the disk fails), and every fact that led there. */
    public record Choice(Optional<Technique> technique, boolean weakerThanPolicy, List<String> notes) {
    }

    private Techniques() {
    }

    public static Choice choose(DiskFacts d, Policy policy) {
        List<String> notes = new ArrayList<>();
        List<Technique> offered = offered(d, notes);
        if (!offered.contains(Technique.BLKDISCARD_ZEROES) && d.discardSupported() && policy.trustDiscard()) {
            // the operator trusts this fleet's discards (metalgate.erase.trust-discard): the device does not promise
            // zeroes, so only the read-back can show the discard erased anything
            offered.add(Technique.BLKDISCARD_ZEROES);
            notes.add("discard trusted by policy without a zeroing guarantee: the read-back decides");
        }
        Technique best = offered.stream().min(Enum::compareTo).orElse(Technique.OVERWRITE);
        if (offered.isEmpty()) {
            notes.add("no technique of the drive's own is offered: overwrite");
        }
        if (best.method.compareTo(policy.minimum()) < 0) {
            notes.add(best + " is " + best.method + ", weaker than the policy's " + policy.minimum());
            if (!policy.allowWeaker()) {
                notes.add("the policy does not allow a weaker method: the disk fails");
                return new Choice(Optional.empty(), true, List.copyOf(notes));
            }
            notes.add("the policy allows a weaker method: used, and recorded as such");
            return new Choice(Optional.of(best), true, List.copyOf(notes));
        }
        return new Choice(Optional.of(best), false, List.copyOf(notes));
    }

    /** Every technique the disk reports, with notes on what it does not offer and why. */
    static List<Technique> offered(DiskFacts d, List<String> notes) {
        List<Technique> out = new ArrayList<>();
        String transport = d.transport() == null ? "" : d.transport().toUpperCase(Locale.ROOT);
        if (transport.equals("NVME") && d.nvmeIdCtrl() != null) {
            long sanicap = field(d.nvmeIdCtrl(), "sanicap").orElse(0L);
            long oacs = field(d.nvmeIdCtrl(), "oacs").orElse(0L);
            Optional<Long> fna = field(d.nvmeIdCtrl(), "fna");
            if ((sanicap & 0x1) != 0) {
                out.add(Technique.NVME_SANITIZE_CRYPTO);
            }
            if ((sanicap & 0x2) != 0) {
                out.add(Technique.NVME_SANITIZE_BLOCK);
            }
            if ((sanicap & 0x4) != 0) {
                out.add(Technique.NVME_SANITIZE_OVERWRITE);
            }
            if (sanicap == 0) {
                notes.add("NVMe sanitize not supported (SANICAP 0)");
            }
            if ((oacs & 0x2) != 0) {
                if (fna.isPresent() && (fna.get() & 0x4) != 0) {
                    out.add(Technique.NVME_FORMAT_CRYPTO);
                } else {
                    out.add(Technique.NVME_FORMAT_USER_DATA);
                    notes.add(fna.isEmpty() ? "FNA not reported: Format's crypto erase not assumed" : "Format NVM without crypto erase (FNA bit 2 clear)");
                }
            }
        } else if (transport.equals("ATA") && d.hdparmI() != null) {
            var sec = AtaSecurity.parse(d.hdparmI());
            if (!sec.supported()) {
                notes.add("ATA security feature set not supported");
            } else if (sec.frozen()) {
                notes.add("ATA security is frozen (set by the firmware at boot; a suspend/resume or a hot-plug may unfreeze it): security erase "
                        + "not possible now");
            } else if (sec.locked() || sec.enabled()) {
                notes.add("ATA security is " + (sec.locked() ? "locked" : "enabled with a user password") + ": not used");
            } else {
                out.add(sec.enhanced() ? Technique.ATA_SECURITY_ERASE_ENHANCED : Technique.ATA_SECURITY_ERASE);
                if (!sec.enhanced()) {
                    notes.add("ATA enhanced security erase not supported");
                }
            }
        } else if (transport.equals("SCSI") && !d.scsiSanitize() && (d.scsiSanitizeSupport() != null || d.sgOpcodes() != null)) {
            // what the drive answered for each service action, and what it listed: either is the drive's own word
            var actions = scsiSanitizeActions(d.scsiSanitizeSupport());
            actions.addAll(scsiSanitizeActionsListed(d.sgOpcodes()));
            if (actions.contains(3)) {
                out.add(Technique.SCSI_SANITIZE_CRYPTO);
            }
            if (actions.contains(2)) {
                out.add(Technique.SCSI_SANITIZE_BLOCK);
            }
            if (actions.contains(1)) {
                out.add(Technique.SCSI_SANITIZE_OVERWRITE);
            }
            if (!actions.contains(1) && !actions.contains(2) && !actions.contains(3)) {
                notes.add("SCSI SANITIZE not supported (REPORT SUPPORTED OPERATION CODES)");
            }
        } else if (transport.equals("SCSI") && d.scsiSanitize()) {
            out.add(Technique.SCSI_SANITIZE_CRYPTO);
            out.add(Technique.SCSI_SANITIZE_BLOCK);
            out.add(Technique.SCSI_SANITIZE_OVERWRITE);
        }
        if (discardZeroes(d, transport, notes)) {
            out.add(Technique.BLKDISCARD_ZEROES);
        }
        return out;
    }

    /** A numeric field of {@code nvme id-ctrl}'s text output ("sanicap   : 0xa0000002"); hex with 0x, else decimal. */
    static Optional<Long> field(String idCtrl, String name) {
        for (String line : idCtrl.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0 || !line.substring(0, colon).strip().equals(name)) {
                continue;
            }
            String v = line.substring(colon + 1).strip();
            try {
                return Optional.of(v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** The {@code Security:} section of {@code hdparm -I}. */
    record AtaSecurity(boolean supported, boolean enabled, boolean locked, boolean frozen, boolean enhanced) {

        static AtaSecurity parse(String hdparm) {
            boolean in = false;
            boolean supported = false, enabled = false, locked = false, frozen = false, enhanced = false;
            for (String raw : hdparm.split("\n")) {
                String line = raw.strip();
                if (line.startsWith("Security:")) {
                    in = true;
                    continue;
                }
                if (!in) {
                    continue;
                }
                if (!raw.startsWith("\t") && !raw.startsWith(" ")) {
                    break; // the next section
                }
                String[] words = line.split("\\s+");
                boolean not = words.length > 0 && words[0].equals("not");
                String what = String.join(" ", java.util.Arrays.copyOfRange(words, not ? 1 : 0, words.length));
                switch (what) {
                    case "supported" -> supported = !not;
                    case "enabled" -> enabled = !not;
                    case "locked" -> locked = !not;
                    case "frozen" -> frozen = !not;
                    case "supported: enhanced erase" -> enhanced = !not;
                    default -> {
                    }
                }
            }
            return new AtaSecurity(supported, enabled, locked, frozen, enhanced);
        }
    }
}
