/**
 * The appliance process: its entry point ({@link io.metalgate.appliance.MetalgateMain}: run, or
 * {@code audit verify FILE}), the embedded PostgreSQL it starts when no database is configured, and the
 * data directory with its 0600 secret files.
 */
package io.metalgate.appliance;
