package io.metalgate.integration.outbound;

import io.metalgate.common.ApiException;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/outbound}: the endpoints the relay delivers to, and every delivery with its proof. */
@Path("/api/outbound")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "outbound")
public class OutboundResource {

    public record EndpointCreate(@NotBlank @Size(max = 100) String name, @NotNull OutboundEndpoints.Kind kind,
            @NotBlank @Size(max = 2000) String url, @Size(min = 16, max = 500) String secret, UUID tenantId,
            List<@NotBlank String> actions) {
    }

    /** A delivery as the API shows it (its body is what was sent; never a secret). */
    public record DeliveryView(long id, String idempotencyKey, String channel, long auditSeq, String action, UUID noticeId, UUID tenantId,
            String recipient, String messageId, String status, int attempts, String lastError, String proof, Instant sentAt,
            UUID attemptId, Instant createdAt) {
    }

    @Inject
    OutboundEndpoints endpoints;
    @Inject
    Pool pool;
    @Inject
    SecurityIdentity identity;

    @POST
    @Path("/endpoints")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Add a webhook or ticket endpoint (its HMAC secret is stored encrypted and never shown); it gets what "
            + "happens from now on")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    public Uni<Response> create(@Valid @NotNull EndpointCreate body) {
        return endpoints.create(body.name(), body.kind(), body.url(), body.secret(), body.tenantId(), body.actions(),
                identity.getPrincipal().getName())
                .map(e -> Response.created(URI.create("/api/outbound/endpoints/" + e.id())).entity(e).build());
    }

    @GET
    @Path("/endpoints")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "The endpoints (without their secrets)")
    public Uni<List<OutboundEndpoints.EndpointView>> endpoints() {
        return endpoints.list();
    }

    @GET
    @Path("/endpoints/{id}")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "One endpoint (without its secret)")
    public Uni<OutboundEndpoints.EndpointView> endpoint(@PathParam("id") UUID id) {
        return endpoints.get(id);
    }

    @DELETE
    @Path("/endpoints/{id}")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Disable an endpoint: nothing new is owed to it (what is owed already still goes)")
    public Uni<OutboundEndpoints.EndpointView> disable(@PathParam("id") UUID id) {
        return endpoints.disable(id, identity.getPrincipal().getName());
    }

    @GET
    @Path("/deliveries")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Deliveries, newest first: idempotency key, status (PENDING, SENT, FAILED, BOUNCED), attempts, proof")
    public Uni<List<DeliveryView>> deliveries(@QueryParam("noticeId") UUID noticeId, @QueryParam("status") String status,
            @QueryParam("limit") Integer limit) {
        int n = limit == null ? 100 : limit;
        if (n < 1 || n > 1000) {
            throw ApiException.badRequest("limit", "between 1 and 1000");
        }
        if (status != null && !List.of("PENDING", "SENT", "FAILED", "BOUNCED").contains(status)) {
            throw ApiException.badRequest("status", "one of PENDING, SENT, FAILED, BOUNCED");
        }
        return pool.preparedQuery("SELECT id, idempotency_key, channel, audit_seq, action, notice_id, tenant_id, recipient, message_id, "
                + "status, attempts, last_error, proof, sent_at, attempt_id, created_at FROM outbound_delivery "
                + "WHERE ($1::uuid IS NULL OR notice_id = $1) AND ($2::text IS NULL OR status = $2) ORDER BY id DESC LIMIT $3")
                .execute(Tuple.of(noticeId, status, n)).map(rows -> {
                    List<DeliveryView> out = new ArrayList<>();
                    for (Row r : rows) {
                        var sent = r.getOffsetDateTime("sent_at");
                        out.add(new DeliveryView(r.getLong("id"), r.getString("idempotency_key"), r.getString("channel"),
                                r.getLong("audit_seq"), r.getString("action"), r.getUUID("notice_id"), r.getUUID("tenant_id"),
                                r.getString("recipient"), r.getString("message_id"), r.getString("status"), r.getInteger("attempts"),
                                r.getString("last_error"), r.getString("proof"), sent == null ? null : sent.toInstant(),
                                r.getUUID("attempt_id"), r.getOffsetDateTime("created_at").toInstant()));
                    }
                    return out;
                });
    }
}
