package io.metalgate.conductor;

import io.metalgate.driver.api.Interfaces;
import io.metalgate.driver.ipmi.IpmiDriver;
import io.metalgate.driver.redfish.RedfishDriver;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** The driver for a machine's BMC protocol (the {@code bmc_protocol} column: REDFISH or IPMI). */
@ApplicationScoped
class Drivers {

    @Inject
    RedfishDriver redfish;
    @Inject
    IpmiDriver ipmi;
    @Inject
    io.micrometer.core.instrument.MeterRegistry metrics;

    private Interfaces.Driver meteredRedfish;
    private Interfaces.Driver meteredIpmi;

    @jakarta.annotation.PostConstruct
    void meter() {
        meteredRedfish = new MeteredDriver(redfish, metrics);
        meteredIpmi = new MeteredDriver(ipmi, metrics);
    }

    /** The protocol's driver, every call timed and counted by outcome ({@link MeteredDriver}). */
    Interfaces.Driver of(io.metalgate.machine.BmcProtocol protocol) {
        return switch (protocol) {
            case REDFISH -> meteredRedfish;
            case IPMI -> meteredIpmi;
        };
    }
}
