package io.metalgate.redfishmock;

/**
 * The machine behind an emulated BMC: what a power action or a boot does. {@link MockBmc} keeps the
 * Redfish side (sessions, boot override, ETags) and asks its host to power and boot; without a host the
 * machine is simulated in memory. {@link QemuHost} is a real QEMU virtual machine.
 *
 * <p>{@code bootTarget} is the Redfish {@code BootSourceOverrideTarget} this boot uses ("None" = the
 * machine's normal boot order); the BMC has already applied its once/continuous rule.
 */
public interface Host extends AutoCloseable {

    boolean poweredOn();

    /** Powers on and boots from {@code bootTarget}; nothing if already on. */
    void powerOn(String bootTarget);

    /** Cuts power at once. */
    void forceOff();

    /** Asks the operating system to shut down (ACPI power button); a machine without one stays on. */
    void gracefulShutdown();

    /** Hard reset (or power on when off), booting from {@code bootTarget}. */
    void forceRestart(String bootTarget);

    @Override
    default void close() {
    }
}
