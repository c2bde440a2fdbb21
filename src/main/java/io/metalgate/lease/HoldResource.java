package io.metalgate.lease;

import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.HoldService.HoldRequest;
import io.metalgate.lease.HoldService.HoldView;
import io.metalgate.security.Actors;
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
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/holds}: legal holds, preservation requests, disputes. */
@Path("/api/holds")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "holds")
public class HoldResource {

    public record PlaceHold(@NotNull Hold.Kind kind, @NotNull UUID tenantId, UUID leaseId,
            @Size(max = 10000) List<@NotNull UUID> machineIds, @NotBlank @Size(max = 2000) String reason) {
    }

    public record ReleaseHold(@NotBlank @Size(max = 2000) String reason) {
    }

    @Inject
    HoldService holds;
    @Inject
    AuditLog audit;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed({ Roles.OPERATOR, Roles.LEGAL })
    @Operation(summary = "Place a hold at once (tenant, lease, or a set of machines)")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    public Uni<Response> place(@Valid @NotNull PlaceHold body) {
        return holds.place(new HoldRequest(body.kind(), body.tenantId(), body.leaseId(), body.machineIds(), body.reason()),
                identity.getPrincipal().getName()).call(audit::sequenced)
                .map(h -> Response.created(URI.create("/api/holds/" + h.id())).entity(h).build());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List holds (filter by tenant; active or all)")
    public Uni<List<HoldView>> list(@QueryParam("tenantId") UUID tenantId, @QueryParam("active") Boolean active) {
        return holds.list(tenantId, active);
    }

    @GET
    @Path("/{id}")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read a hold")
    public Uni<HoldView> get(@PathParam("id") UUID id) {
        return holds.get(id);
    }

    @POST
    @Path("/{id}/release")
    @RolesAllowed({ Roles.OPERATOR, Roles.LEGAL, Roles.APPROVER })
    @Operation(summary = "Ask for or confirm a release: two different people, one of them legal, each with a reason")
    public Uni<HoldView> release(@PathParam("id") UUID id, @Valid @NotNull ReleaseHold body) {
        // the person, not the credential: one user's password and token are not two people
        return holds.release(id, body.reason(), Actors.person(identity), identity.hasRole(Roles.LEGAL))
                .call(audit::sequenced);
    }
}
