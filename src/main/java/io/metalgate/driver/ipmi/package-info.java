/**
 * IPMI 2.0 over LAN (RMCP+, UDP 623): {@link io.metalgate.driver.ipmi.IpmiCodec} encodes and decodes
 * packets without any I/O (byte-exact tests), {@link io.metalgate.driver.ipmi.Rakp} holds the session
 * cryptography (RAKP HMACs, SIK, K1, K2) of cipher suites 3 and 17, {@link io.metalgate.driver.ipmi.IpmiTransport}
 * multiplexes every BMC over one UDP socket, {@link io.metalgate.driver.ipmi.IpmiClient} keeps one session per
 * BMC, and {@link io.metalgate.driver.ipmi.IpmiDriver} is the power and management interface of the driver layer.
 */
package io.metalgate.driver.ipmi;
