/**
 * Drivers: how metalgate talks to BMCs. {@code api} holds the hardware interfaces in the spirit of
 * OpenStack Ironic's (power, management, virtual media, inspect, erase) and their value types;
 * {@code redfish} implements them over Redfish; the IPMI issue adds {@code ipmi}. Only the conductor calls
 * drivers, and only for what the gate allowed (power state reads and inspection change nothing).
 */
package io.metalgate.driver;
