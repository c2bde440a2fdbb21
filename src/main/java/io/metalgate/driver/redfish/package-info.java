/**
 * The Redfish driver. {@link io.metalgate.driver.redfish.RedfishClient} is the transport (Vert.x, no thread
 * per BMC): per-BMC connection limit, timeouts, retries with backoff, a circuit breaker, sessions with
 * Basic as fallback, and certificate pinning ({@link io.metalgate.driver.redfish.CertificatePins}).
 * {@link io.metalgate.driver.redfish.RedfishDriver} speaks the protocol on top: discovery from the service
 * root, reset types with fallbacks, boot override with ETags, virtual media, task monitors, inventory —
 * and the vendor quirks of docs/bmc-quirks.md ({@link io.metalgate.driver.redfish.VendorProfile}).
 */
package io.metalgate.driver.redfish;
