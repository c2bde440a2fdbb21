/**
 * A simulated IPMI 2.0 (RMCP+) BMC and a host for thousands of them: {@link io.metalgate.ipmisim.SimBmc},
 * {@link io.metalgate.ipmisim.IpmiSim}. Proven against the real ipmitool ({@code -C 3}, {@code -C 17}).
 */
package io.metalgate.ipmisim;
