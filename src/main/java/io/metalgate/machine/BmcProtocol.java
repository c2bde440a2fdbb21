package io.metalgate.machine;

/** How the appliance talks to a machine's BMC. */
public enum BmcProtocol {
    /** DMTF Redfish over HTTPS (default port 443). */
    REDFISH(443),
    /** IPMI 2.0 RMCP+ over UDP (default port 623). */
    IPMI(623);

    private final int defaultPort;

    BmcProtocol(int defaultPort) {
        this.defaultPort = defaultPort;
    }

    public int defaultPort() {
        return defaultPort;
    }
}
