package io.metalgate.driver.api;

/** A boot device override: which device, for the next boot only or until cleared, in which firmware mode. */
public record BootOverride(Device device, boolean persistent, Mode mode) {

    public enum Device {
        /** No override: the normal boot order. */
        NONE, PXE, DISK, CD, UEFI_HTTP
    }

    public enum Mode {
        UEFI, LEGACY
    }
}
