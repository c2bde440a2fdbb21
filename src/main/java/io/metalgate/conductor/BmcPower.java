package io.metalgate.conductor;

import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.redfish.RedfishDriver;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.UUID;

/**
 * The BMC side of an allowed power-off: only {@link ActionService} calls it, after the gate allowed. A
 * Redfish machine is forced off through its BMC; a machine whose protocol has no driver yet (IPMI, until
 * its issue lands) is not driven, and the audit says so.
 */
@ApplicationScoped
class BmcPower {

    @Inject
    BmcEndpoints endpoints;
    @Inject
    RedfishDriver redfish;

    /** Powers the machine off; returns what was done, for the audit. Fails with the driver's exception. */
    Uni<String> powerOff(UUID machineId) {
        return endpoints.redfish(machineId).chain(e -> e.isEmpty() ? Uni.createFrom().item("not driven: no driver for its BMC protocol yet")
                : redfish.setPower(e.get(), PowerAction.OFF).replaceWith("REDFISH ForceOff"));
    }
}
