package io.metalgate.conductor;

import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/action-requests/{id}}: read, approve, reject (approver role, never one's own request). */
@Path("/api/action-requests/{id}")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "gate")
public class ActionRequestResource {

    public record DecisionBody(@Size(max = 2000) String reason) {
    }

    @Inject
    Approvals approvals;
    @Inject
    SecurityIdentity identity;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read an action request and its approvals")
    public Uni<Approvals.RequestView> get(@PathParam("id") UUID id) {
        return approvals.get(id);
    }

    @POST
    @Path("/approve")
    @RolesAllowed(Roles.APPROVER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Approve an action request (not its requester)")
    public Uni<Approvals.RequestView> approve(@PathParam("id") UUID id, @Valid DecisionBody body) {
        return approvals.decide(id, true, body == null ? null : body.reason(), Actors.person(identity), identity.getRoles());
    }

    @POST
    @Path("/reject")
    @RolesAllowed(Roles.APPROVER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Reject an action request")
    public Uni<Approvals.RequestView> reject(@PathParam("id") UUID id, @Valid DecisionBody body) {
        return approvals.decide(id, false, body == null ? null : body.reason(), Actors.person(identity), identity.getRoles());
    }
}
