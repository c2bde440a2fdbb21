package io.metalgate.machine;

import io.metalgate.common.PageView;
import io.metalgate.common.QueryParams;
import io.metalgate.evidence.AuditLog;
import io.metalgate.machine.MachineApi.Enrollment;
import io.metalgate.machine.MachineApi.MachineView;
import io.metalgate.machine.MachineApi.Update;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/machines}: enrol, list, read, update, delete. */
@Path("/api/machines")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "machines")
public class MachineResource {

    @Inject
    MachineService machines;
    @Inject
    AuditLog audit;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Enrol a machine with its BMC endpoint and credentials")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    public Uni<Response> enroll(@Valid @NotNull Enrollment body) {
        return machines.enroll(body, actor()).call(audit::sequenced)
                .map(m -> Response.created(URI.create("/api/machines/" + m.id())).entity(m).build());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "List machines, filtered, one page at a time (page is 0-based)")
    public Uni<PageView<MachineView>> list(@QueryParam("name") String name, @QueryParam("rack") String rack,
            @QueryParam("state") String state, @QueryParam("protocol") String protocol,
            @QueryParam("maintenance") Boolean maintenance,
            @QueryParam("page") @DefaultValue("0") @Min(0) int page,
            @QueryParam("size") @DefaultValue("50") @Min(1) @Max(500) int size) {
        return machines.list(new MachineService.Filter(name, rack, QueryParams.enumValue(LifecycleState.class, state, "state"),
                QueryParams.enumValue(BmcProtocol.class, protocol, "protocol"), maintenance), page, size);
    }

    @GET
    @Path("/{id}")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read a machine (BMC, lifecycle, power, lease)")
    public Uni<MachineView> get(@PathParam("id") UUID id) {
        return machines.get(id);
    }

    @PATCH
    @Path("/{id}")
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Change some fields of a machine; absent fields stay as they are")
    public Uni<MachineView> update(@PathParam("id") UUID id, @Valid @NotNull Update body) {
        return machines.update(id, body, actor()).call(audit::sequenced);
    }

    @DELETE
    @Path("/{id}")
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Delete a machine that never held a tenant's data")
    public Uni<Response> delete(@PathParam("id") UUID id) {
        return machines.delete(id, actor()).call(audit::sequenced).map(v -> Response.noContent().build());
    }

    private String actor() {
        return identity.getPrincipal().getName();
    }
}
