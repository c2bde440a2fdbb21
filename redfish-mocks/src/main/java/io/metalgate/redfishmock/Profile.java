package io.metalgate.redfishmock;

import java.util.List;

/**
 * How one kind of BMC behaves where real BMCs differ (docs/bmc-quirks.md names the public source of each).
 *
 * @param vendor             ServiceRoot {@code Vendor} (and {@code Oem} key) a client detects the profile by
 * @param product            ServiceRoot {@code Product}
 * @param systemId           member id of the one ComputerSystem (never at a fixed path: clients discover it)
 * @param managerId          member id of the BMC's Manager
 * @param resetTypes         {@code ResetType@Redfish.AllowableValues} of ComputerSystem.Reset
 * @param etags              answers GETs with an ETag and honours {@code If-Match} on PATCH (412 on mismatch)
 * @param bootModeRequired   a boot override PATCH without {@code BootSourceOverrideMode} is refused (400)
 * @param insertMediaAction  virtual media has InsertMedia/EjectMedia actions; otherwise only PATCH of
 *                           {@code Image}/{@code Inserted} works
 * @param virtualMediaUnderSystem virtual media hangs under the System, not the Manager
 * @param sessionLimit       concurrent sessions before the BMC refuses a login
 * @param sessionLimitStatus HTTP status of the refusal when the limit is reached
 * @param secureErase        Drives offer {@code #Drive.SecureErase} (answered 202 with a task monitor)
 * @param bootModeReadOnly   a boot override PATCH that names {@code BootSourceOverrideMode} is refused (400)
 * @param eventService       offers an EventService that pushes power-state events to subscribers
 * @param volumeInitialize   Storage has Volumes offering {@code #Volume.Initialize} (answered 202 with a task)
 * @param mediaSlots         ids of the virtual media devices ({@code RemovableDisk} takes USB sticks, the others CDs
 *                           and DVDs); ids starting {@code RDOC} or
 *                           {@code Remote} take only images uploaded to the BMC or the remote console (XCC),
 *                           so a mount by URI there is refused
 * @param patchNeedsInserted a virtual media PATCH without {@code Inserted} is refused (400 PropertyMissing)
 */
public record Profile(String name, String vendor, String product, String systemId, String managerId, List<String> resetTypes,
        boolean etags, boolean bootModeRequired, boolean insertMediaAction, boolean virtualMediaUnderSystem, int sessionLimit,
        int sessionLimitStatus, boolean secureErase, boolean bootModeReadOnly, boolean eventService, boolean volumeInitialize,
        List<String> mediaSlots, boolean patchNeedsInserted) {

    /** A DMTF-schema rack server that does what the specification says and little more. */
    public static final Profile GENERIC = new Profile("generic", "Contoso", "Contoso Rack Server R1", "1", "bmc",
            List.of("On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "PowerCycle", "Nmi"), true, false, true, false,
            16, 503, true, false, true, true, List.of("CD1"), false);

    /** Dell iDRAC 9: Embedded ids, ETags, a small session table (400 when it is full), virtual media under the Manager. */
    public static final Profile IDRAC = new Profile("idrac", "Dell", "Integrated Dell Remote Access Controller", "System.Embedded.1",
            "iDRAC.Embedded.1", List.of("On", "ForceOff", "ForceRestart", "GracefulRestart", "GracefulShutdown", "PushPowerButton", "Nmi",
                    "PowerCycle"), true, false, true, false, 8, 400, true, false, true, false, List.of("RemovableDisk", "CD"), false);

    /**
     * HPE iLO 5/6: no PowerCycle (clients fall back to ForceOff then On), ETags, virtual media under the
     * Manager, and BootSourceOverrideMode not writable (a PATCH naming it is refused).
     */
    public static final Profile ILO = new Profile("ilo", "HPE", "ProLiant DL360 Gen10", "1", "1",
            List.of("On", "ForceOff", "GracefulShutdown", "ForceRestart", "Nmi", "PushPowerButton", "GracefulRestart"), true, false, true,
            false, 10, 503, false, true, true, false, List.of("1", "2"), false);

    /** Supermicro X11/X12: no ETags, BootSourceOverrideMode required in a boot PATCH, virtual media by PATCH only. */
    public static final Profile SUPERMICRO = new Profile("supermicro", "Supermicro", "X12DPi-NT6", "1", "1",
            List.of("On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "PowerCycle"), false, true, false, false,
            4, 503, false, false, false, true, List.of("CD1"), false);

    /**
     * Lenovo XCC: ten predefined virtual media slots of which only EXT1–EXT4 mount an image by URI (RDOC and
     * Remote slots are for uploads and the remote console), mounted by PATCH only, and that PATCH must name
     * {@code Inserted}.
     */
    public static final Profile XCC = new Profile("xcc", "Lenovo", "ThinkSystem SR650 V2", "1", "1",
            List.of("On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "PowerCycle"), true, false, false, false,
            8, 503, false, false, true, true, List.of("RDOC1", "RDOC2", "EXT1", "EXT2", "EXT3", "EXT4", "Remote1", "Remote2", "Remote3",
                    "Remote4"), true);

    public static final List<Profile> ALL = List.of(GENERIC, IDRAC, ILO, SUPERMICRO, XCC);

    public static Profile named(String name) {
        return ALL.stream().filter(p -> p.name().equalsIgnoreCase(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown profile " + name + "; known: generic, idrac, ilo, supermicro, xcc"));
    }
}
