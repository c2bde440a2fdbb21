package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.evidence.AuditLog;
import io.metalgate.gate.Action;
import io.metalgate.gate.Facts;
import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * "The tenant asked for it" as a recorded fact with its proof (domain.md "Claims need proof"): someone
 * records the request with the channel it came by and its proof (ticket id, message id, signed link), a
 * second, different person confirms it, and the action names it ({@code tenantRequestId}). It is for one
 * machine and its data's tenant, used once, and expires like an approval request. Every step is audited
 * under the machine and its tenant.
 */
@ApplicationScoped
@Path("/api/machines/{id}/tenant-requests")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class TenantRequests {

    public enum Channel {
        TICKET, EMAIL, SIGNED_MESSAGE, TENANT_PAGE, PHONE
    }

    public record RecordBody(@NotNull Action action, @NotNull Channel channel, @NotBlank @Size(max = 4000) String proof) {
    }

    public record View(UUID id, UUID tenantId, UUID machineId, Action action, Channel channel, String proof, String recordedBy,
            Instant recordedAt, Instant expiresAt, String confirmedBy, Instant confirmedAt, Instant usedAt) {
    }

    static final Duration EXPIRY = Duration.ofHours(72);

    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    MachineTasks tasks;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Record a tenant's request for a power-off, power cycle or external boot, with its proof (a second person confirms it)")
    public Uni<Response> record(@PathParam("id") UUID machineId, @Valid @NotNull RecordBody body) {
        if (body.action() != Action.POWER_OFF && body.action() != Action.POWER_CYCLE && body.action() != Action.BOOT_EXTERNAL) {
            throw ApiException.badRequest("action", "a tenant's request is recorded for POWER_OFF, POWER_CYCLE or BOOT_EXTERNAL only");
        }
        String person = Actors.person(identity);
        UUID id = UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return tasks.withLock(machineId, m -> {
            if (m.dataTenantId() == null) {
                throw ApiException.conflict("machine " + machineId + " holds no tenant's data; there is no tenant to ask", "id");
            }
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("tenantRequestId", id.toString());
            payload.put("tenantId", m.dataTenantId().toString());
            payload.put("action", body.action().name());
            payload.put("channel", body.channel().name());
            payload.put("proof", body.proof());
            return m.tx().preparedQuery("INSERT INTO tenant_request (id, tenant_id, machine_id, action, channel, proof, recorded_by, "
                    + "recorded_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .execute(Tuple.from(List.of(id, m.dataTenantId(), machineId, body.action().name(), body.channel().name(), body.proof(),
                            person, now.atOffset(ZoneOffset.UTC), now.plus(EXPIRY).atOffset(ZoneOffset.UTC))))
                    .chain(() -> audit.record(m.tx(), person, "tenant-request.recorded", "machine:" + machineId, payload))
                    .chain(() -> audit.record(m.tx(), person, "tenant-request.recorded", "tenant:" + m.dataTenantId(), payload));
        }).chain(() -> get(pool, id)).map(v -> Response.created(URI.create("/api/tenant-requests/" + id)).entity(v).build());
    }

    /** A second, different person confirms the request ({@link TenantRequestResource}). */
    Uni<View> confirm(UUID id) {
        String person = Actors.person(identity);
        return get(pool, id).chain(v -> tasks.withLock(v.machineId(), m -> m.tx().preparedQuery("UPDATE tenant_request SET confirmed_by = $2, "
                + "confirmed_at = $3 WHERE id = $1 AND confirmed_by IS NULL AND recorded_by <> $2 AND used_at IS NULL AND expires_at > now()")
                .execute(Tuple.of(id, person, Instant.now().atOffset(ZoneOffset.UTC))).chain(rows -> {
                    if (rows.rowCount() == 0) {
                        String why = v.recordedBy().equals(person) ? person + " recorded this request; a second, different person confirms it"
                                : "request " + id + " is already confirmed, used or expired";
                        throw new ApiException(Problem.of(409, "two-person-rule", "Two people needed", why));
                    }
                    Map<String, Object> payload = Map.of("tenantRequestId", id.toString(), "recordedBy", v.recordedBy());
                    return audit.record(m.tx(), person, "tenant-request.confirmed", "machine:" + m.id(), payload)
                            .chain(() -> audit.record(m.tx(), person, "tenant-request.confirmed", "tenant:" + v.tenantId(), payload));
                }))).chain(() -> get(pool, id));
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List the tenant requests recorded for a machine")
    public Uni<List<View>> forMachine(@PathParam("id") UUID machineId) {
        return list(pool, "WHERE machine_id = $1", Tuple.of(machineId));
    }

    Uni<View> one(UUID id) {
        return get(pool, id);
    }

    /**
     * The request as a gate fact, read in the caller's transaction (its row locked): 400 when it is not a
     * request for this machine, its data's tenant and this action, or is used or expired.
     */
    Uni<Facts.TenantRequestFact> fact(SqlClient tx, UUID id, UUID machineId, Action action, Instant now) {
        return tx.preparedQuery("SELECT r.*, m.data_tenant_id FROM tenant_request r JOIN machine m ON m.id = r.machine_id WHERE r.id = $1 "
                + "FOR UPDATE OF r").execute(Tuple.of(id)).map(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.badRequest("tenantRequestId", "no tenant request " + id);
                    }
                    Row r = rows.iterator().next();
                    View v = view(r);
                    String wrong = !v.machineId().equals(machineId) ? "is for machine " + v.machineId()
                            : v.action() != action ? "is for " + v.action()
                            : !v.tenantId().equals(r.getUUID("data_tenant_id")) ? "was made by a tenant whose data the machine no longer holds"
                            : v.usedAt() != null ? "was used " + v.usedAt()
                            : !v.expiresAt().isAfter(now) ? "expired " + v.expiresAt() : null;
                    if (wrong != null) {
                        throw ApiException.badRequest("tenantRequestId", "tenant request " + id + " " + wrong);
                    }
                    return new Facts.TenantRequestFact(id.toString(), v.channel().name(), v.proof(), v.recordedBy(),
                            Optional.ofNullable(v.confirmedBy()));
                });
    }

    Uni<Void> markUsed(SqlClient tx, UUID id, Instant now) {
        return tx.preparedQuery("UPDATE tenant_request SET used_at = $2 WHERE id = $1").execute(Tuple.of(id, now.atOffset(ZoneOffset.UTC)))
                .replaceWithVoid();
    }

    private Uni<View> get(SqlClient db, UUID id) {
        return list(db, "WHERE id = $1", Tuple.of(id)).map(l -> {
            if (l.isEmpty()) {
                throw ApiException.notFound("tenant request", id);
            }
            return l.get(0);
        });
    }

    private Uni<List<View>> list(SqlClient db, String where, Tuple args) {
        return db.preparedQuery("SELECT * FROM tenant_request " + where + " ORDER BY recorded_at").execute(args).map(rows -> {
            List<View> out = new ArrayList<>();
            rows.forEach(r -> out.add(view(r)));
            return out;
        });
    }

    private static View view(Row r) {
        return new View(r.getUUID("id"), r.getUUID("tenant_id"), r.getUUID("machine_id"), Action.valueOf(r.getString("action")),
                Channel.valueOf(r.getString("channel")), r.getString("proof"), r.getString("recorded_by"), instant(r, "recorded_at"),
                instant(r, "expires_at"), r.getString("confirmed_by"), instant(r, "confirmed_at"), instant(r, "used_at"));
    }

    private static Instant instant(Row r, String column) {
        var t = r.getOffsetDateTime(column);
        return t == null ? null : t.toInstant();
    }
}
