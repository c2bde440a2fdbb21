package io.metalgate.conductor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.driver.api.Inventory;
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
    Drivers drivers;
    @Inject
    BmcEndpoints endpoints;
    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;
    @Inject
    MachineTasks tasks;

    /** Where inspection may run: before service, not while a tenant's data is on the machine. */
    static final java.util.Set<LifecycleState> INSPECTABLE = java.util.EnumSet.of(LifecycleState.MANAGEABLE, LifecycleState.INSPECT_FAILED,
            LifecycleState.AVAILABLE);

    /** The machine's BMC (password decrypted, pinned certificate if any). */
    Uni<BmcEndpoints.Target> endpoint(UUID machineId) {
        return endpoints.of(machineId);
    }

    /**
     * Reads the hardware and stores it with the machine; a MANAGEABLE machine moves through INSPECTING to
     * AVAILABLE (INSPECT_FAILED when the BMC fails). The inventory, the step and their audit entries commit
     * in one transaction under the machine's lock.
     */
    public Uni<Inventory> inspect(UUID machineId, String person) {
        return endpoint(machineId).chain(target -> tasks.withLock(machineId, m -> {
            if (!INSPECTABLE.contains(m.state())) {
                // the inventory is what the REASSIGN gate holds an erase certificate against: it is not rewritten
                // while the machine is in service or holds a tenant's data
                throw ApiException.conflict("machine " + machineId + " is " + m.state() + "; inspection runs in " + INSPECTABLE, "state");
            }
            return m.state() == LifecycleState.AVAILABLE ? Uni.createFrom().item(m.state())
                    : tasks.fire(m, m.state() == LifecycleState.MANAGEABLE ? MachineLifecycle.Event.INSPECT : MachineLifecycle.Event.RETRY,
                            person, "inspection started");
        })
                // Redfish: the whole inventory; IPMI: what FRU device 0 says (manufacturer, model, serial number)
                .chain(() -> drivers.of(target.protocol()).inspect(target.endpoint()))
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
                    String hardware = hardwareId(inv);
                    java.util.List<String> serialless = inv.disks().stream()
                            .filter(d -> io.metalgate.gate.DiskSerials.key(d.serialNumber()).isEmpty())
                            .map(d -> d.id() == null ? "?" : d.id()).toList();
                    return tasks.withLock(machineId, m -> {
                        if (m.state() == LifecycleState.ERASING) {
                            // the erase's disks are the inventory's as the erase began (and those its agent found): an
                            // inspection finishing now must not change what the certificate has to cover
                            return Uni.createFrom().item(Optional.<ApiException>of(ApiException.conflict("machine " + machineId
                                    + " is ERASING: its inventory is kept until the erase ends", "state")));
                        }
                        return twinOf(m, hardware).chain(twin -> {
                        if (twin.isPresent()) {
                            // one server is one machine: the same hardware behind another address (a BMC's second
                            // port, a shared LOM) is refused, the machine marked, the refusal audited
                            String detail = "the BMC reports " + hardware + ", which is machine " + twin.get();
                            Uni<Void> failed = m.state() == LifecycleState.INSPECTING
                                    ? tasks.fire(m, MachineLifecycle.Event.INSPECT_FAILED, person, detail).replaceWithVoid()
                                    : Uni.createFrom().voidItem();
                            return failed.chain(() -> audit.record(m.tx(), person, "bmc.twin-refused", "machine:" + machineId,
                                    Map.of("hardwareId", hardware, "machine", twin.get().toString())))
                                    .replaceWith(Optional.<ApiException>of(new ApiException(Problem.of(409, "conflict", "Conflict", detail)
                                            .withErrors(java.util.List.of(new Problem.FieldError("bmc.host", "same server as " + twin.get()))))));
                        }
                        return m.tx().preparedQuery("UPDATE machine SET inventory = $2, inspected_at = $3, "
                                + "bmc_hardware_id = COALESCE($4, bmc_hardware_id) WHERE id = $1")
                                .execute(Tuple.of(machineId, json, now.atOffset(ZoneOffset.UTC), hardware))
                                .chain(() -> macs(m.tx(), machineId, inv))
                                .chain(() -> audit.record(m.tx(), person, "machine.inspected", "machine:" + machineId, Map.of("disks",
                                        inv.disks().stream().map(d -> Map.of("serialNumber", String.valueOf(d.serialNumber()), "model",
                                                String.valueOf(d.model()), "capacityBytes", d.capacityBytes())).toList(), "nics",
                                        inv.nics().stream().map(Inventory.Nic::mac).toList(), "hardwareId", String.valueOf(hardware))))
                                .chain(() -> m.state() != LifecycleState.INSPECTING ? Uni.createFrom().voidItem()
                                        : serialless.isEmpty() ? tasks.fire(m, MachineLifecycle.Event.INSPECTED, person, "inventory stored")
                                                .replaceWithVoid()
                                        // no erase of a disk without a serial can be shown (no report names it): such a
                                        // machine does not enter the pool, where it would hold a tenant's data for good
                                        : tasks.fire(m, MachineLifecycle.Event.INSPECT_FAILED, person, "the BMC lists disk(s) "
                                                + serialless + " without a serial number: no erase of them could be shown").replaceWithVoid())
                                .replaceWith(Optional.<ApiException>empty());
                    });
                    }).map(refused -> {
                        if (refused.isPresent()) {
                            throw refused.get();
                        }
                        return inv;
                    });
                });
    }

    /** Manufacturer and system serial number, when the BMC reports a serial: what the hardware is, whatever its address. */
    static String hardwareId(Inventory inv) {
        if (inv.serialNumber() == null || inv.serialNumber().isBlank()) {
            return null;
        }
        return (inv.manufacturer() == null ? "" : inv.manufacturer().strip().toLowerCase(java.util.Locale.ROOT)) + ":"
                + inv.serialNumber().strip();
    }

    /** Another machine with this hardware, or this machine's own hardware changed (a different server behind its BMC). */
    private static Uni<Optional<UUID>> twinOf(MachineTasks.Locked m, String hardware) {
        if (hardware == null) {
            return Uni.createFrom().item(Optional.empty());
        }
        return HardwareIdentity.claim(m.tx(), m.id(), hardware);
    }

    /**
     * The machine's MACs as inspection found them, how a network-booting machine is recognised (boot package); a MAC
     * another machine already has stays that machine's (one NIC is one machine's).
     */
    private static Uni<Void> macs(io.vertx.mutiny.sqlclient.SqlClient tx, UUID machineId, Inventory inv) {
        java.util.List<String> macs = inv.nics().stream().map(n -> io.metalgate.boot.BootScripts.mac(n.mac())).flatMap(Optional::stream)
                .distinct().toList();
        Uni<Void> cleared = tx.preparedQuery("DELETE FROM machine_mac WHERE machine_id = $1 AND source = 'inspection'").execute(Tuple.of(machineId)).replaceWithVoid();
        if (macs.isEmpty()) {
            return cleared;
        }
        return cleared.chain(() -> tx.preparedQuery("INSERT INTO machine_mac (mac, machine_id) SELECT unnest($1::varchar[]), $2 "
                + "ON CONFLICT (mac) DO NOTHING").execute(Tuple.of(macs.toArray(new String[0]), machineId))).replaceWithVoid();
    }

    /** The stored inventory of a machine, if it was inspected. */
    public Uni<Optional<Inventory>> stored(UUID machineId) {
        return pool.preparedQuery("SELECT inventory FROM machine WHERE id = $1").execute(Tuple.of(machineId)).map(rows -> {
            if (rows.rowCount() == 0) {
                throw ApiException.notFound("machine", machineId);
            }
            return parse(machineId, rows.iterator().next().getString("inventory"));
        });
    }

    /** A machine's inventory column as read (in whatever transaction): empty when it was never inspected. */
    Optional<Inventory> parse(UUID machineId, String json) {
        try {
            return json == null ? Optional.empty() : Optional.of(mapper.readValue(json, Inventory.class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored inventory of " + machineId + " is not readable", e);
        }
    }
}
