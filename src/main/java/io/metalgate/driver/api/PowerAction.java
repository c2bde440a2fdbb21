package io.metalgate.driver.api;

/** What a power request asks for. CYCLE = off then on; RESET = warm restart without power loss. */
public enum PowerAction {
    ON, OFF, GRACEFUL_OFF, CYCLE, RESET
}
