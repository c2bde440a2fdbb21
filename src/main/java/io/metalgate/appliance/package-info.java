/**
 * The appliance process: its entry point ({@link io.metalgate.appliance.MetalgateMain}: run, or
 * {@code audit verify FILE}), the embedded PostgreSQL it starts when no database is configured, and what
 * the native image must know of every capability ({@link io.metalgate.appliance.NativeReflection}). It
 * assembles the capabilities; none of them depends on it.
 */
package io.metalgate.appliance;
