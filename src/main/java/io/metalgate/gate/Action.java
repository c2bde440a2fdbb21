package io.metalgate.gate;

/** The actions that destroy availability or data, and so must pass the gate. */
public enum Action {
    /** Power a machine off (data intact). */
    POWER_OFF,
    /** Erase every disk of a machine (data gone for good). */
    ERASE,
    /** Give an erased machine to another tenant. */
    REASSIGN
}
