/**
 * The fleet: machines, their BMC endpoints (password encrypted, never returned) and lifecycle state.
 * Public surface: {@link io.metalgate.machine.Machine} (for other capabilities queries),
 * {@link io.metalgate.machine.MachineService}, the REST resource and its records in
 * {@link io.metalgate.machine.MachineApi}.
 */
package io.metalgate.machine;
