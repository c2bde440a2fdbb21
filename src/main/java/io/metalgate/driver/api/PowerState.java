package io.metalgate.driver.api;

/** A machine's power as its BMC reports it; transitions in progress count as where they go. */
public enum PowerState {
    ON, OFF
}
