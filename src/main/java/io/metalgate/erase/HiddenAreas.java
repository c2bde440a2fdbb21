package io.metalgate.erase;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sectors of an ATA drive that no erase through the block device reaches: a Host Protected Area (or an Accessible Max
 * Address set below the native maximum), which hides the end of the drive behind a lower max address, and a Device
 * Configuration Overlay, which makes the drive report a smaller native maximum than it has. Read from what
 * {@code hdparm -N} and {@code hdparm --dco-identify} print (hdparm's own formats: " max sectors   = VISIBLE/NATIVE, HPA
 * is enabled|disabled" or ", ACCESSIBLE MAX ADDRESS enabled|disabled"; "Real max sectors: N"). A pure function: the
 * agent runs the steps it answers before erasing, and a disk whose hidden sectors cannot be reached fails — never an
 * erase that leaves a tenant's data behind the drive's own max address.
 */
public final class HiddenAreas {

    private static final Pattern MAX_SECTORS = Pattern.compile("max sectors\\s*=\\s*(\\d+)/(\\d+)(.*)");
    private static final Pattern REAL_MAX = Pattern.compile("Real max sectors:\\s*(\\d+)");

    /** What the drive said: sectors visible now, its native maximum, the DCO's real maximum (null where unknown). */
    public record Found(Long visible, Long nativeMax, Long dcoRealMax, boolean accessibleMaxAddress, boolean invalid) {
    }

    /**
     * Before erasing: the agent's steps, in order ({@code SET_MAX:N}: {@code hdparm --yes-i-know-what-i-am-doing -N N},
     * volatile, until the next power cycle; {@code DCO_RESTORE}: {@code hdparm --yes-i-know-what-i-am-doing --dco-restore});
     * or why the disk cannot be erased whole; and what the certificate should say.
     */
    public record Plan(List<String> steps, Optional<String> refusal, List<String> notes) {
    }

    private HiddenAreas() {
    }

    public static Found parse(String hdparmN, String dcoIdentify) {
        Long visible = null;
        Long nativeMax = null;
        boolean ama = false;
        boolean invalid = false;
        if (hdparmN != null) {
            Matcher m = MAX_SECTORS.matcher(hdparmN);
            if (m.find()) {
                visible = Long.parseLong(m.group(1));
                nativeMax = Long.parseLong(m.group(2));
                ama = m.group(3).contains("ACCESSIBLE MAX ADDRESS");
                invalid = m.group(3).contains("seems invalid");
            }
        }
        Long real = null;
        if (dcoIdentify != null) {
            Matcher m = REAL_MAX.matcher(dcoIdentify);
            if (m.find()) {
                real = Long.parseLong(m.group(1));
            }
        }
        return new Found(visible, nativeMax, real, ama, invalid);
    }

    /** {@code restoreDco}: whether the policy lets the agent restore a DCO's factory configuration to reach what it hides. */
    public static Plan plan(String hdparmN, String dcoIdentify, boolean restoreDco) {
        Found f = parse(hdparmN, dcoIdentify);
        List<String> steps = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (f.visible() == null) {
            notes.add("hidden areas not determined: hdparm -N gave no max sectors (the drive or its controller did not answer)");
            return new Plan(steps, Optional.empty(), notes);
        }
        if (f.invalid() || f.visible() > f.nativeMax()) {
            return new Plan(steps, Optional.of("the drive reports " + f.visible() + " visible sectors but a native maximum of " + f.nativeMax()
                    + ": its max address cannot be trusted, so no erase can be shown to reach every sector"), notes);
        }
        long target = f.nativeMax();
        if (f.dcoRealMax() != null && f.dcoRealMax() > f.nativeMax()) {
            long hidden = f.dcoRealMax() - f.nativeMax();
            if (!restoreDco) {
                return new Plan(steps, Optional.of("a Device Configuration Overlay hides " + hidden + " sectors (real max " + f.dcoRealMax()
                        + ", native max " + f.nativeMax() + "): an erase would not reach them; restore the DCO (metalgate.erase.restore-dco, "
                        + "or hdparm --dco-restore after review) and erase again"), notes);
            }
            steps.add("DCO_RESTORE");
            notes.add("DCO restored to the factory configuration to reach " + hidden + " hidden sectors");
            target = f.dcoRealMax();
        }
        if (f.visible() < target) {
            steps.add("SET_MAX:" + target);
            notes.add((f.accessibleMaxAddress() ? "Accessible Max Address" : "Host Protected Area") + " of " + (target - f.visible())
                    + " sectors opened for the erase (max " + f.visible() + " → " + target + ", until the next power cycle)");
        } else {
            notes.add("no hidden area: " + f.visible() + " of " + target + " sectors visible"
                    + (f.dcoRealMax() != null ? ", DCO real max " + f.dcoRealMax() : ""));
        }
        return new Plan(steps, Optional.empty(), notes);
    }
}
