package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.common.QueryParams;
import io.metalgate.common.Transitions;
import io.metalgate.lease.LeaseLifecycle;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.metalgate.machine.MachineService;
import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.logging.Logger;

/**
 * The machine lifecycle through the product. {@code POST /api/machines/{id}/lifecycle/{event}} fires the
 * steps an operator takes by hand: verify (again), make available, mark deployed (until deployment lands),
 * retire. Gated steps (power-off, erase, reassign) go through {@code /actions}, never here. Enrolment
 * verifies the BMC at once: VERIFYING, then MANAGEABLE when the BMC answers with the enrolled credentials,
 * VERIFY_FAILED (with the BMC's error) when it does not. {@code GET /api/lifecycle} returns both tables.
 */
@ApplicationScoped
@Path("/api/machines/{id}/lifecycle")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "lifecycle")
public class LifecycleResource {

    private static final Logger LOG = Logger.getLogger(LifecycleResource.class);

    /** The events this endpoint fires; each is a row of the table, checked there. */
    static final Set<MachineLifecycle.Event> MANUAL = Set.of(MachineLifecycle.Event.VERIFY, MachineLifecycle.Event.MAKE_AVAILABLE,
            MachineLifecycle.Event.DEPLOYED, MachineLifecycle.Event.RETIRE, MachineLifecycle.Event.RETRY);

    public record Row(String from, String event, String to, String guard, String firedBy) {
    }

    public record Tables(List<Row> machine, List<Row> lease) {
    }

    @Inject
    MachineTasks tasks;
    @Inject
    BmcEndpoints endpoints;
    @Inject
    Drivers drivers;
    @Inject
    SecurityIdentity identity;
    @Inject
    io.metalgate.evidence.AuditLog audit;

    /** {@code GET /api/lifecycle}: both tables (from, event, to, guard). */
    @Path("/api/lifecycle")
    @Produces(MediaType.APPLICATION_JSON)
    @Tag(name = "lifecycle")
    public static class TablesResource {

        @GET
        @RolesAllowed(Roles.VIEWER)
        @Operation(summary = "The machine and lease lifecycle tables (from, event, to, guard)")
        public Tables tables() {
            return new Tables(rows(MachineLifecycle.TABLE), rows(LeaseLifecycle.TABLE));
        }
    }

    static <S extends Enum<S>, E extends Enum<E>, C> List<Row> rows(Transitions<S, E, C> t) {
        return t.rows().stream().map(r -> new Row(r.from().name(), r.event().name(), r.to().name(), r.guard(), r.firedBy())).toList();
    }

    @POST
    @Path("/{event}")
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Fire a manual lifecycle step: verify, make_available, deployed, retire, retry (not erase: that is an action)")
    public Uni<Map<String, Object>> fire(@PathParam("id") UUID id, @PathParam("event") String eventParam) {
        MachineLifecycle.Event event = QueryParams.enumValue(MachineLifecycle.Event.class, eventParam, "event");
        if (!MANUAL.contains(event)) {
            throw ApiException.badRequest("event", event + " is not a manual step (manual: " + MANUAL + "; gated steps are actions)");
        }
        String person = Actors.person(identity);
        return tasks.withLock(id, m -> {
            if (event == MachineLifecycle.Event.RETRY && m.state() == LifecycleState.ERASE_FAILED) {
                throw ApiException.badRequest("event", "retrying an erase is an action: POST /api/machines/" + id + "/actions/erase");
            }
            if (event == MachineLifecycle.Event.RETIRE && m.dataLeaseId() != null) {
                throw ApiException.conflict("machine " + id + " holds the data of lease " + m.dataLeaseId()
                        + "; it is retired only after a verified erase", "state");
            }
            return tasks.fire(m, event, person, "API: " + event);
        }).call(state -> state == LifecycleState.VERIFYING ? verify(id, person) : Uni.createFrom().voidItem())
                .chain(state -> state == LifecycleState.VERIFYING ? tasks.withLock(id, m -> Uni.createFrom().item(m.state()))
                        : Uni.createFrom().item(state))
                .map(state -> Map.of("machineId", id, "state", state));
    }

    void onEnrolled(@ObservesAsync MachineService.Enrolled e) {
        tasks.withLock(e.machineId(), m -> MachineLifecycle.TABLE.find(m.state(), MachineLifecycle.Event.VERIFY).isEmpty()
                ? Uni.createFrom().item(false) : tasks.fire(m, MachineLifecycle.Event.VERIFY, "system:conductor", "enrolled").replaceWith(true))
                .chain(fired -> fired ? verify(e.machineId(), "system:conductor") : Uni.createFrom().voidItem())
                .subscribe().with(v -> { }, err -> LOG.warnf("verifying machine %s failed: %s", e.machineId(), err.toString()));
    }

    /** What verification found: the BMC's error (null when it answered) and the hardware identity it reported. */
    private record Verified(String error, java.util.List<String> hardware) {
    }

    /**
     * Asks the BMC with the enrolled credentials; VERIFYING → MANAGEABLE, or VERIFY_FAILED with the BMC's error.
     * Where the protocol tells what the hardware is (IPMI: the system GUID authenticated in the session), a
     * second machine on the same hardware (a BMC's second address) fails verification, audited.
     */
    Uni<Void> verify(UUID id, String actor) {
        return endpoints.of(id).chain(t -> drivers.of(t.protocol()).powerState(t.endpoint())
                .chain(p -> drivers.of(t.protocol()).hardwareIds(t.endpoint())).map(hw -> new Verified(null, hw)))
                .onFailure().recoverWithItem(err -> new Verified(err.getMessage() == null ? err.toString() : err.getMessage(),
                        java.util.List.of()))
                .chain(v -> tasks.withLock(id, m -> {
                    if (m.state() != LifecycleState.VERIFYING) {
                        return Uni.createFrom().voidItem();
                    }
                    if (v.error() != null) {
                        return tasks.fire(m, MachineLifecycle.Event.VERIFY_FAILED, actor, "the BMC did not answer: " + v.error()).replaceWithVoid();
                    }
                    if (v.hardware().isEmpty()) {
                        return tasks.fire(m, MachineLifecycle.Event.VERIFIED, actor, "the BMC answered").replaceWithVoid();
                    }
                    String hw = v.hardware().get(0);
                    return HardwareIdentity.releaseMovedAddresses(m.tx(), id, v.hardware())
                            .chain(() -> HardwareIdentity.claimAll(m.tx(), id, v.hardware())).chain(holder -> {
                                if (holder.isPresent()) {
                                    UUID twin = holder.get();
                                    return audit.record(m.tx(), actor, "bmc.twin-refused", "machine:" + id, Map.of("hardwareId", hw, "machine",
                                            twin.toString()))
                                            .chain(() -> tasks.fire(m, MachineLifecycle.Event.VERIFY_FAILED, actor, "the BMC reports " + hw
                                                    + ", which is machine " + twin + ": one server is one machine"))
                                            .replaceWithVoid();
                                }
                                // the hardware's own identity, not a claim of an address (which the machine gives up when its BMC moves)
                                String own = v.hardware().stream().filter(x -> !x.startsWith("redfish-system:")).findFirst().orElse(null);
                                Uni<?> stored = own == null ? Uni.createFrom().voidItem()
                                        : m.tx().preparedQuery("UPDATE machine SET bmc_hardware_id = $2 WHERE id = $1 AND bmc_hardware_id IS NULL")
                                                .execute(io.vertx.mutiny.sqlclient.Tuple.of(id, own));
                                return stored
                                        .chain(() -> tasks.fire(m, MachineLifecycle.Event.VERIFIED, actor, "the BMC answered as " + hw))
                                        .replaceWithVoid();
                            });
                }));
    }
}
