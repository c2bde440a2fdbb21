package io.metalgate.conductor;

import io.metalgate.driver.api.Inventory;
import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/machines/{id}/inventory}: inspect a machine through its BMC, and read what was found. */
@Path("/api/machines/{id}/inventory")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "hardware")
public class HardwareResource {

    @Inject
    Inspection inspection;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Inspect now: processors, memory, disks (model, serial, capacity), NICs; stored with the machine")
    public Uni<Inventory> inspect(@PathParam("id") UUID id) {
        return inspection.inspect(id, Actors.person(identity));
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "The inventory found by the last inspection (404 if never inspected)")
    public Uni<Inventory> get(@PathParam("id") UUID id) {
        return inspection.stored(id).map(o -> o.orElseThrow(() -> io.metalgate.common.ApiException.notFound("inventory of machine", id)));
    }
}
