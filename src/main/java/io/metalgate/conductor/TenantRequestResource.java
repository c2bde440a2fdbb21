package io.metalgate.conductor;

import io.metalgate.security.Roles;
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
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/tenant-requests/{id}}: read a recorded tenant request; a second person confirms it. */
@Path("/api/tenant-requests/{id}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "gate")
public class TenantRequestResource {

    @Inject
    TenantRequests requests;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read a tenant's recorded request")
    public Uni<TenantRequests.View> get(@PathParam("id") UUID id) {
        return requests.one(id);
    }

    @POST
    @Path("/confirm")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Confirm a tenant's recorded request (not the person who recorded it)")
    public Uni<TenantRequests.View> confirm(@PathParam("id") UUID id) {
        return requests.confirm(id);
    }
}
