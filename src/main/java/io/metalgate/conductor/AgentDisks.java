package io.metalgate.conductor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.boot.BootService;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.driver.api.Inventory;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code POST /api/agent/disks}: what the erase agent found on the machine it booted — the system's UUID as its
 * firmware (SMBIOS) tells it, and every disk — before it erases anything. Out-of-band inventory cannot see every
 * disk (IPMI sees none; a BMC may not see a disk behind an HBA), so a disk the agent found and the inventory lacks
 * is added to the inventory, and the certificate must then cover it too (Ironic's in-band inspection does the same).
 *
 * <p>Found disks are believed only on the machine they belong to: the agent's system UUID must be one the machine's
 * BMC reported when it was verified. An agent booted on other hardware (a mistyped boot MAC, another server that
 * network-booted meanwhile) is refused before it erases anything: token spent, ERASE_FAILED, audited. So is an agent
 * whose hardware cannot be shown to be the machine's (no UUID, a placeholder, none on record): nothing is erased on
 * hardware of unknown identity. A disk without a serial number cannot be certified: it fails the erase too. The
 * token is marked as having shown its hardware; the agent gets no disk, and its report counts for nothing, before.
 */
@Path("/api/agent")
@Tag(name = "boot")
public class AgentDisks {

    /** One disk as the agent found it ({@code device} its kernel name, for the operator's eyes). */
    public record FoundDisk(@Size(max = 200) String serialNumber, @Size(max = 200) String model, Long capacityBytes,
            @Size(max = 20) String transport, @Size(max = 64) String device) {
    }

    public record DisksRequest(@NotBlank @Size(max = 100) String token, @Size(max = 64) String systemUuid,
            @NotNull @Size(max = 256) List<@Valid FoundDisk> disks) {
    }

    /** UUIDs firmware ships unset or as a vendor placeholder: they name no machine. */
    static final Set<String> PLACEHOLDER_UUIDS = Set.of("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "03000200-0400-0500-0006-000700080009");

    @Inject
    Pool pool;
    @Inject
    BootService boot;
    @Inject
    MachineTasks tasks;
    @Inject
    io.metalgate.evidence.AuditLog audit;
    @Inject
    ObjectMapper mapper;
    @Inject
    Inspection inspection;

    private record Outcome(EraseAgentResource.Task task, Optional<ApiException> refused) {
    }

    @POST
    @Path("disks")
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "What the erase agent found (system UUID, disks) before erasing: checked against the machine's hardware identity; disks "
            + "the inventory lacks are added to it (the certificate must cover them); answers the disks to erase, or 409 and ERASE_FAILED")
    public Uni<EraseAgentResource.Task> disks(@Valid @NotNull DisksRequest body, @jakarta.ws.rs.core.Context io.vertx.core.http.HttpServerRequest request) {
        Instant now = Instant.now();
        String ip = EraseAgentResource.caller(request);
        return EraseAgentResource.machineOf(pool, boot, body.token(), ip, now).chain(machine -> tasks.withLock(machine,
                m -> EraseAgentResource.lockedToken(boot, m, body.token(), ip, now).chain(t -> locked(m, body, now)))).map(o -> {
                    if (o.refused().isPresent()) {
                        throw o.refused().get();
                    }
                    return o.task();
                });
    }

    private Uni<Outcome> locked(MachineTasks.Locked m, DisksRequest body, Instant now) {
        String actor = "agent:" + m.id();
        if (m.state() != LifecycleState.ERASING) {
            return Uni.createFrom().failure(ApiException.conflict("machine " + m.id() + " is " + m.state() + ", not ERASING", "token"));
        }
        String uuid = body.systemUuid() == null || body.systemUuid().isBlank() ? null : body.systemUuid().strip().toLowerCase(Locale.ROOT);
        return m.tx().preparedQuery("SELECT hardware_id FROM machine_hardware_id WHERE machine_id = $1 AND hardware_id LIKE 'system-uuid:%'")
                .execute(Tuple.of(m.id())).chain(rows -> {
                    Set<String> known = new TreeSet<>();
                    rows.forEach(r -> known.add(r.getString("hardware_id").substring("system-uuid:".length())));
                    return m.tx().preparedQuery("SELECT inventory FROM machine WHERE id = $1").execute(Tuple.of(m.id()))
                            .chain(inv -> decide(m, actor, body, uuid, known, inspection.parse(m.id(), inv.iterator().next().getString("inventory"))
                                    .orElse(new Inventory(null, null, null, List.of(), List.of(), List.of(), List.of())), now));
                });
    }

    private Uni<Outcome> decide(MachineTasks.Locked m, String actor, DisksRequest body, String uuid, Set<String> known, Inventory inv, Instant now) {
        boolean confirmed = uuid != null && !PLACEHOLDER_UUIDS.contains(uuid) && known.contains(uuid);
        // serials as the BMC and the agent spell them may differ in padding and case (DiskSerials): the same disk
        Set<String> inventorySerials = new TreeSet<>();
        inv.disks().forEach(d -> io.metalgate.gate.DiskSerials.key(d.serialNumber()).ifPresent(inventorySerials::add));
        List<FoundDisk> added = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (FoundDisk d : body.disks()) {
            if (d == null) {
                continue;
            }
            String serial = d.serialNumber() == null ? "" : d.serialNumber().strip();
            var key = io.metalgate.gate.DiskSerials.key(serial);
            if (key.isEmpty()) {
                problems.add("disk " + d.device() + " has no serial number: it cannot be certified");
            } else if (!seen.add(key.get())) {
                problems.add("disk " + serial + " found twice");
            } else if (!inventorySerials.contains(key.get())) {
                added.add(d);
            }
        }
        if (!confirmed) {
            // nothing is erased on hardware that is not shown to be this machine's: a mistyped boot MAC, another server
            // that booted meanwhile, or a BMC that reports no identity (decision 0013)
            problems.add(0, uuid == null || PLACEHOLDER_UUIDS.contains(uuid) ? "the agent reports no usable system UUID: the hardware cannot be "
                    + "shown to be this machine's" : known.isEmpty() ? "the machine has no system UUID on record (its BMC reported none at "
                            + "verification): the hardware the agent booted on cannot be shown to be this machine's"
                            : "the agent booted on system " + uuid + ", which is not this machine (its BMC reports " + known + ")");
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("systemUuid", uuid);
        payload.put("identityConfirmed", confirmed);
        payload.put("found", body.disks().stream().filter(java.util.Objects::nonNull).map(d -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("serialNumber", d.serialNumber());
            x.put("model", d.model());
            x.put("capacityBytes", d.capacityBytes());
            x.put("transport", d.transport());
            x.put("device", d.device());
            return x;
        }).toList());
        if (!problems.isEmpty()) {
            payload.put("refusals", problems);
            String reason = "the agent's disks were refused: " + String.join("; ", problems);
            return audit.record(m.tx(), actor, "erase.disks-refused", "machine:" + m.id(), payload)
                    .chain(() -> boot.spend(m.tx(), body.token(), now))
                    .chain(() -> tasks.fire(m, MachineLifecycle.Event.ERASE_FAILED, actor, reason))
                    .replaceWith(new Outcome(null, Optional.of(new ApiException(Problem.of(409, "erase-disks-refused", "Erase refused", reason)))));
        }
        payload.put("added", added.stream().map(FoundDisk::serialNumber).toList());
        List<Inventory.Disk> disks = new ArrayList<>(inv.disks());
        for (FoundDisk d : added) {
            disks.add(new Inventory.Disk("agent:" + d.serialNumber(), d.model(), d.serialNumber(), d.capacityBytes(), d.transport(), null, "Enabled"));
        }
        Inventory merged = new Inventory(inv.manufacturer(), inv.model(), inv.serialNumber(), inv.processors(), inv.memory(), disks, inv.nics(),
                inv.volumes());
        Uni<Void> stored = added.isEmpty() ? Uni.createFrom().voidItem() : Uni.createFrom().item(() -> {
            try {
                return mapper.writeValueAsString(merged);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }).chain(json -> m.tx().preparedQuery("UPDATE machine SET inventory = $2 WHERE id = $1").execute(Tuple.of(m.id(), json))).replaceWithVoid();
        return stored.chain(() -> audit.record(m.tx(), actor, "erase.disks-found", "machine:" + m.id(), payload))
                .chain(() -> boot.confirmHardware(m.tx(), body.token(), now))
                .replaceWith(new Outcome(new EraseAgentResource.Task("ERASE", m.id(), EraseAgentResource.disks(merged), List.of()), Optional.empty()));
    }
}
