package io.metalgate.conductor;

import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.redfish.RedfishDriver;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
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
    Pool pool;
    @Inject
    Inspection inspection;
    @Inject
    RedfishDriver redfish;

    /** Powers the machine off; returns what was done, for the audit. Fails with the driver's exception. */
    Uni<String> powerOff(UUID machineId) {
        return pool.preparedQuery("SELECT bmc_protocol FROM machine WHERE id = $1").execute(Tuple.of(machineId)).chain(rows -> {
            String protocol = rows.rowCount() == 0 ? "" : rows.iterator().next().getString("bmc_protocol");
            if (!protocol.equals("REDFISH")) {
                return Uni.createFrom().item("not driven: no " + protocol + " driver yet");
            }
            return inspection.endpoint(machineId).chain(bmc -> redfish.setPower(bmc, PowerAction.OFF)).replaceWith("REDFISH ForceOff");
        });
    }
}
