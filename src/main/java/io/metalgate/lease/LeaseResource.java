package io.metalgate.lease;

import io.metalgate.common.PageView;
import io.metalgate.common.QueryParams;
import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.LeaseApi.LeaseCreate;
import io.metalgate.lease.LeaseApi.LeaseUpdate;
import io.metalgate.lease.LeaseApi.LeaseView;
import io.metalgate.lease.LeaseApi.MachineIds;
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
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/leases}: leases with their machines. */
@Path("/api/leases")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "leases")
public class LeaseResource {

    @Inject
    LeaseService leases;
    @Inject
    AuditLog audit;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Create a lease for a tenant (PENDING)")
    public Uni<Response> create(@Valid @NotNull LeaseCreate body) {
        return leases.create(body, actor()).call(audit::sequenced)
                .map(l -> Response.created(URI.create("/api/leases/" + l.id())).entity(l).build());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List leases (filter by tenant and state; paged)")
    public Uni<PageView<LeaseView>> list(@QueryParam("tenantId") UUID tenantId, @QueryParam("state") String state,
            @QueryParam("page") @DefaultValue("0") @Min(0) int page,
            @QueryParam("size") @DefaultValue("50") @Min(1) @Max(500) int size) {
        return leases.list(tenantId, QueryParams.enumValue(LeaseState.class, state, "state"), page, size);
    }

    @GET
    @Path("/{id}")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read a lease")
    public Uni<LeaseView> get(@PathParam("id") UUID id) {
        return leases.get(id);
    }

    @PATCH
    @Path("/{id}")
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Change a lease's dates or external reference")
    public Uni<LeaseView> update(@PathParam("id") UUID id, @Valid @NotNull LeaseUpdate body) {
        return leases.update(id, body, actor()).call(audit::sequenced);
    }

    @POST
    @Path("/{id}/machines")
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING })
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Add machines to a lease (to a started one: billing only)")
    public Uni<LeaseView> addMachines(@PathParam("id") UUID id, @Valid @NotNull MachineIds body) {
        return leases.addMachines(id, body.machineIds(), actor(), identity.hasRole(Roles.BILLING)).call(audit::sequenced)
                .invoke(leases::joinedStarted);
    }

    @DELETE
    @Path("/{id}/machines/{machineId}")
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Take a machine out of a lease (its data stays the tenant's until erased)")
    public Uni<LeaseView> removeMachine(@PathParam("id") UUID id, @PathParam("machineId") UUID machineId) {
        return leases.removeMachine(id, machineId, actor()).call(audit::sequenced);
    }

    @POST
    @Path("/{id}/events")
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING })
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Move the lease by an event; 409 lists the events its state allows. "
            + "ACTIVATED, SUSPENDED, TERMINATED and PAYMENT_RECEIVED need the billing role")
    public Uni<LeaseView> event(@PathParam("id") UUID id, @Valid @NotNull LeaseApi.LeaseEventRequest body) {
        if (LeaseLifecycle.BILLING_ONLY.contains(body.event()) && !identity.hasRole(Roles.BILLING)) {
            // the power-off gate trusts a SUSPENDED or TERMINATED lease: only the system of record for contracts says so
            throw new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(403, "forbidden", "Forbidden", body.event()
                    + " is a contract fact: it comes from billing (role billing), not from an operator")
                    .withErrors(java.util.List.of(new io.metalgate.common.Problem.FieldError("event", "needs the billing role"))));
        }
        return leases.fire(id, body.event(), body.reason(), actor()).call(audit::sequenced);
    }

    @DELETE
    @Path("/{id}")
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Delete a lease that never started")
    public Uni<Response> delete(@PathParam("id") UUID id) {
        return leases.delete(id, actor()).call(audit::sequenced).map(v -> Response.noContent().build());
    }

    private String actor() {
        return identity.getPrincipal().getName();
    }
}
