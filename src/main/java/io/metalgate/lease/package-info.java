/**
 * Contracts: tenants, leases and the machines in them. The lease state machine, holds, notices and
 * approvals will live here too; the gate that reads them does not.
 */
package io.metalgate.lease;
