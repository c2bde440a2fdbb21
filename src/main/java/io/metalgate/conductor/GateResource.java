package io.metalgate.conductor;

import io.metalgate.common.QueryParams;
import io.metalgate.gate.Action;
import io.metalgate.gate.Decision;
import io.metalgate.gate.Facts;
import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** "Why can't I erase this?": the gate's answer for one machine, with the facts it saw. Changes nothing. */
@Path("/api/machines/{id}/gate")
@Tag(name = "gate")
public class GateResource {

    public record Explanation(Decision decision, Facts facts, Instant at) {
    }

    @Inject
    ActionService actions;
    @Inject
    SecurityIdentity identity;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Explain whether an action (power_off, erase, reassign, power_on, power_cycle, boot_local, boot_external) is allowed now, with every reason")
    public Uni<Explanation> explain(@PathParam("id") UUID id, @QueryParam("action") String actionParam,
            @Parameter(description = "explain as under this approval request (its requester and approvals)") @QueryParam("requestId") UUID requestId) {
        Action action = QueryParams.enumValue(Action.class, actionParam, "action");
        if (action == null) {
            throw io.metalgate.common.ApiException.badRequest("action", "required: one of " + java.util.Arrays.toString(Action.values()));
        }
        Instant now = Instant.now();
        return actions.explain(id, action, new ActionService.ActionInput(requestId, null, null), Actors.person(identity),
                identity.getRoles(), now).map(d -> new Explanation(d.decision(), d.facts(), now));
    }
}
