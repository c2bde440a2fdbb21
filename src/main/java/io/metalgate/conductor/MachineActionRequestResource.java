package io.metalgate.conductor;

import io.metalgate.gate.Action;
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
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Action requests of a machine: asked by one person, approved or rejected by another. */
@Path("/api/machines/{id}/action-requests")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "gate")
public class MachineActionRequestResource {

    public record RequestBody(@NotNull Action action, @NotBlank @Size(max = 2000) String reason) {
    }

    @Inject
    Approvals approvals;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Ask for an action that needs another person's approval")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    public Uni<Response> request(@PathParam("id") UUID id, @Valid @NotNull RequestBody body) {
        return approvals.request(id, body.action(), body.reason(), Actors.person(identity))
                .map(r -> Response.created(URI.create("/api/action-requests/" + r.id())).entity(r).build());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List the action requests (approvals) of a machine")
    public Uni<List<Approvals.RequestView>> requests(@PathParam("id") UUID id) {
        return approvals.forMachine(id);
    }
}
