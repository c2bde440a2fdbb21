package io.metalgate.conductor;

import io.metalgate.driver.api.PowerAction;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.UUID;

/**
 * The BMC side of an allowed power-off: only {@link ActionService} calls it, after the gate allowed. The
 * machine is forced off through its BMC: Redfish ForceOff, or IPMI Chassis Control power down.
 */
@ApplicationScoped
class BmcPower {

    @Inject
    BmcEndpoints endpoints;
    @Inject
    Drivers drivers;

    /** Powers the machine on (a reinstated lease's machine); returns what was done, for the audit. */
    Uni<String> powerOn(UUID machineId) {
        return endpoints.of(machineId).chain(t -> drivers.of(t.protocol()).setPower(t.endpoint(), PowerAction.ON)
                .replaceWith(t.protocol() + " power on"));
    }

    /** Powers the machine off; returns what was done, for the audit. Fails with the driver's exception. */
    Uni<String> powerOff(UUID machineId) {
        return endpoints.of(machineId).chain(t -> drivers.of(t.protocol()).setPower(t.endpoint(), PowerAction.OFF)
                .replaceWith(t.protocol() == io.metalgate.machine.BmcProtocol.IPMI ? "IPMI Chassis Control power down" : "REDFISH ForceOff"));
    }
}
