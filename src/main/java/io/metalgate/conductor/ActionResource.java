package io.metalgate.conductor;

import io.metalgate.common.QueryParams;
import io.metalgate.gate.Action;
import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code POST /api/machines/{id}/actions/{action}}: decide through the gate and, if allowed, act. */
@Path("/api/machines/{id}/actions")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "gate")
public class ActionResource {

    /**
     * @param tenantRequestId a recorded, confirmed tenant request ({@code /api/machines/{id}/tenant-requests})
     * @param tenantRequested refused: the tenant's request is a recorded fact with its proof, not a flag
     */
    public record ActionBody(UUID requestId, UUID tenantRequestId, Boolean tenantRequested, @Size(max = 2000) String emergencyReason) {
    }

    @Inject
    ActionService actions;
    @Inject
    SecurityIdentity identity;

    @POST
    @Path("/{action}")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @Operation(summary = "Decide and, if allowed, act (power_off, power_on, power_cycle, erase, reassign); 409 lists every reason of a refusal")
    public Uni<ActionService.ActionResult> act(@PathParam("id") UUID id, @PathParam("action") String actionParam, @Valid ActionBody body) {
        Action action = QueryParams.enumValue(Action.class, actionParam, "action");
        if (action == Action.ERASE_CONTINUE) {
            throw io.metalgate.common.ApiException.badRequest("action", "ERASE_CONTINUE is decided when an erase agent asks for its task");
        }
        if (action == Action.BOOT_LOCAL || action == Action.BOOT_EXTERNAL) {
            throw io.metalgate.common.ApiException.badRequest("action", action + " needs its medium: PUT /api/machines/" + id
                    + "/boot-device or POST /api/machines/" + id + "/virtual-media");
        }
        ActionBody b = body == null ? new ActionBody(null, null, null, null) : body;
        if (b.tenantRequested() != null) {
            throw io.metalgate.common.ApiException.badRequest("tenantRequested", "a tenant's request is not a flag: record it with its proof "
                    + "(POST /api/machines/" + id + "/tenant-requests), have a second person confirm it, and pass its id as tenantRequestId");
        }
        return actions.execute(id, action, new ActionService.ActionInput(b.requestId(), b.tenantRequestId(), b.emergencyReason()),
                Actors.person(identity), identity.getRoles());
    }
}
