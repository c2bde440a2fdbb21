package io.metalgate.lease;

import io.metalgate.lease.NoticeService.NoticeView;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
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
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/notices}: notices to tenants and their attempts with proof. */
@Path("/api/notices")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "notices")
public class NoticeResource {

    public record NoticeCreate(@NotNull NoticeService.Kind kind, @NotNull UUID tenantId, UUID leaseId, Instant deadline) {
    }

    public record AttemptCreate(@NotNull NoticeService.Channel channel, @NotNull NoticeService.Outcome outcome,
            @NotBlank @Size(max = 4000) String proof, Instant at) {
    }

    public record AttemptConfirmation(@NotBlank @Size(max = 2000) String reason) {
    }

    @Inject
    NoticeService notices;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Create a notice to a tenant (sent by e-mail, webhook and ticket through the outbox)")
    public Uni<Response> create(@Valid @NotNull NoticeCreate body) {
        return notices.create(body.kind(), body.tenantId(), body.leaseId(), body.deadline(), identity.getPrincipal().getName())
                .map(n -> Response.created(URI.create("/api/notices/" + n.id())).entity(n).build());
    }

    @POST
    @Path("/{id}/attempts")
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Record a delivery attempt made outside the appliance (a letter, a "
            + "call, a mail sent by hand) with its proof; the gate counts it once a second person confirms it")
    public Uni<NoticeView> attempt(@PathParam("id") UUID id, @Valid @NotNull AttemptCreate body) {
        if (body.channel() == NoticeService.Channel.LINK) {
            // the tenant's click on its signed link is recorded by the tenant's page itself, with what it saw
            throw io.metalgate.common.ApiException.badRequest("channel", "LINK attempts are recorded by the tenant's page when the "
                    + "tenant uses its link, never typed in");
        }
        return notices.recordAttempt(id, body.channel(), body.outcome(), body.proof(), body.at(), identity.getPrincipal().getName(), true);
    }

    @POST
    @Path("/{id}/attempts/{attemptId}/confirmations")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Confirm, as a second person, an attempt another person typed in: "
            + "only then does the gate count it as proof")
    public Uni<NoticeView> confirm(@PathParam("id") UUID id, @PathParam("attemptId") UUID attemptId,
            @Valid @NotNull AttemptConfirmation body) {
        return notices.confirmAttempt(id, attemptId, body.reason(), io.metalgate.security.Actors.person(identity));
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List a tenant's notices with their attempts and proofs")
    public Uni<List<NoticeView>> list(@NotNull @QueryParam("tenantId") UUID tenantId) {
        return notices.forTenant(tenantId);
    }

    @GET
    @Path("/{id}")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read a notice with its attempts and proofs")
    public Uni<NoticeView> get(@PathParam("id") UUID id) {
        return notices.get(id);
    }
}
