/**
 * The gate: {@link io.metalgate.gate.Gate#decide} — a pure function of {@link io.metalgate.gate.Facts},
 * {@link io.metalgate.gate.Policy} and the time, returning a {@link io.metalgate.gate.Decision} with every
 * blocking reason. No I/O, no clock, no Quarkus: property-tested, replayable from an audit entry.
 */
package io.metalgate.gate;
