package io.metalgate.conductor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.Inventory;
import io.metalgate.driver.redfish.RedfishDriver;
import io.metalgate.evidence.AuditLog;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Inspection: reads a machine's hardware through its BMC and stores the inventory with the machine (the
 * disks' serial numbers are what an erase certificate must cover before a reassignment). Changes nothing
 * on the machine, so it needs no gate decision; it is audited with the disks it found.
 */
@ApplicationScoped
public class Inspection {

    @Inject
    Pool pool;
    @Inject
    RedfishDriver redfish;
    @Inject
    BmcEndpoints endpoints;
    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;
    @Inject
    MachineTasks tasks;

    /** The BMC endpoint of a Redfish machine (password decrypted, pinned certificate if any); 409 for another protocol. */
    public Uni<BmcEndpoint> endpoint(UUID machineId) {
        return endpoints.redfish(machineId).map(e -> e.orElseThrow(() -> ApiException.conflict("machine " + machineId
                + " does not speak Redfish; only Redfish inspection exists yet", "bmc.protocol")));
    }

    /**
     * Reads the hardware and stores it with the machine; a MANAGEABLE machine moves through INSPECTING to
     * AVAILABLE (INSPECT_FAILED when the BMC fails). The inventory, the step and their audit entries commit
     * in one transaction under the machine's lock.
     */
    public Uni<Inventory> inspect(UUID machineId, String person) {
        return endpoint(machineId).chain(bmc -> tasks.withLock(machineId, m -> m.state() == LifecycleState.MANAGEABLE
                || m.state() == LifecycleState.INSPECT_FAILED
                ? tasks.fire(m, m.state() == LifecycleState.MANAGEABLE ? MachineLifecycle.Event.INSPECT : MachineLifecycle.Event.RETRY, person,
                        "inspection started")
                : Uni.createFrom().item(m.state()))
                .chain(() -> redfish.inspect(bmc))
                .onFailure().call(e -> tasks.withLock(machineId, m -> m.state() == LifecycleState.INSPECTING
                        ? tasks.fire(m, MachineLifecycle.Event.INSPECT_FAILED, person, "inspection failed: " + e.getMessage()).replaceWithVoid()
                        : Uni.createFrom().voidItem())))
                .chain(inv -> {
                    String json;
                    try {
                        json = mapper.writeValueAsString(inv);
                    } catch (JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                    Instant now = Instant.now();
                    return tasks.withLock(machineId, m -> m.tx().preparedQuery("UPDATE machine SET inventory = $2, inspected_at = $3 WHERE id = $1")
                            .execute(Tuple.of(machineId, json, now.atOffset(ZoneOffset.UTC)))
                            .chain(() -> audit.record(m.tx(), person, "machine.inspected", "machine:" + machineId, Map.of("disks",
                                    inv.disks().stream().map(d -> Map.of("serialNumber", String.valueOf(d.serialNumber()), "model",
                                            String.valueOf(d.model()), "capacityBytes", d.capacityBytes())).toList(), "nics",
                                    inv.nics().stream().map(Inventory.Nic::mac).toList())))
                            .chain(() -> m.state() == LifecycleState.INSPECTING
                                    ? tasks.fire(m, MachineLifecycle.Event.INSPECTED, person, "inventory stored").replaceWithVoid()
                                    : Uni.createFrom().voidItem()))
                            .replaceWith(inv);
                });
    }

    /** The stored inventory of a machine, if it was inspected. */
    public Uni<Optional<Inventory>> stored(UUID machineId) {
        return pool.preparedQuery("SELECT inventory FROM machine WHERE id = $1").execute(Tuple.of(machineId)).map(rows -> {
            if (rows.rowCount() == 0) {
                throw ApiException.notFound("machine", machineId);
            }
            String json = rows.iterator().next().getString("inventory");
            try {
                return json == null ? Optional.empty() : Optional.of(mapper.readValue(json, Inventory.class));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("stored inventory of " + machineId + " is not readable", e);
            }
        });
    }
}
