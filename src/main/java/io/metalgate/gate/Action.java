package io.metalgate.gate;

/** The actions that destroy availability or data, or could, and so must pass the gate. */
public enum Action {
    /** Power a machine off, forced or graceful (data intact). */
    POWER_OFF,
    /** Erase every disk of a machine (data gone for good). */
    ERASE,
    /** Give an erased machine to another tenant. */
    REASSIGN,
    /** Power a machine on. */
    POWER_ON,
    /** Power-cycle or warm-reset a machine: its running system stops as at a power-off (data intact). */
    POWER_CYCLE,
    /** Boot from the local disk (or clear the override), or eject virtual media: nothing foreign is booted. */
    BOOT_LOCAL,
    /**
     * Boot from the network or a (virtual) CD, or insert virtual media: whatever that medium holds runs on the
     * machine at its next boot, an installer or a wiping tool as well as a rescue system, so a tenant's data is at
     * stake.
     */
    BOOT_EXTERNAL,
    /**
     * The erase agent of an ERASING machine asks for its task (at boot, and again between disks): the erase goes on
     * only while it would still be allowed — no hold, the lease terminated and its retention past, the notice proven.
     * Approvals and the blast radius were settled when the erase started.
     */
    ERASE_CONTINUE;

    /** The actions that lead to a lifecycle step or a BMC operation an operator asks for by name. */
    public boolean isBmcOperation() {
        return this == POWER_ON || this == POWER_CYCLE || this == BOOT_LOCAL || this == BOOT_EXTERNAL;
    }
}
