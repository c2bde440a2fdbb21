package io.metalgate.lease;

import io.metalgate.common.PageView;
import io.metalgate.evidence.AuditLog;
import io.metalgate.evidence.TenantEvidence;
import io.metalgate.lease.LeaseApi.LeaseView;
import io.metalgate.lease.LeaseApi.TenantCreate;
import io.metalgate.lease.LeaseApi.TenantUpdate;
import io.metalgate.lease.LeaseApi.TenantView;
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

/** {@code /api/tenants}. */
@Path("/api/tenants")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "tenants")
public class TenantResource {

    @Inject
    TenantService tenants;
    @Inject
    LeaseService leases;
    @Inject
    AuditLog audit;
    @Inject
    TenantEvidence evidence;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING })
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Create a tenant (its contact e-mail is in force when billing, the "
            + "system of record, or an admin creates it; an operator's is a proposal a second person confirms)")
    public Uni<Response> create(@Valid @NotNull TenantCreate body) {
        boolean recordOfContact = identity.hasRole(Roles.BILLING) || identity.hasRole(Roles.ADMIN);
        return tenants.create(body, actor(), recordOfContact).call(audit::sequenced)
                .map(t -> Response.created(URI.create("/api/tenants/" + t.id())).entity(t).build());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List tenants (filter by name; paged)")
    public Uni<PageView<TenantView>> list(@QueryParam("name") String name,
            @QueryParam("page") @DefaultValue("0") @Min(0) int page,
            @QueryParam("size") @DefaultValue("50") @Min(1) @Max(500) int size) {
        return tenants.list(name, page, size);
    }

    @GET
    @Path("/{id}")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read a tenant")
    public Uni<TenantView> get(@PathParam("id") UUID id) {
        return tenants.get(id);
    }

    @GET
    @Path("/{id}/leases")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List a tenant's leases (paged)")
    public Uni<PageView<LeaseView>> leases(@PathParam("id") UUID id,
            @QueryParam("page") @DefaultValue("0") @Min(0) int page,
            @QueryParam("size") @DefaultValue("50") @Min(1) @Max(500) int size) {
        return tenants.get(id).chain(t -> leases.list(id, null, page, size));
    }

    @GET
    @Path("/{id}/evidence")
    @RolesAllowed({ Roles.LEGAL, Roles.APPROVER })
    @Produces(MediaType.APPLICATION_JSON)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Everything about the tenant in chain order, each with its audit sequence")
    public Uni<TenantEvidence.Report> evidence(@PathParam("id") UUID id) {
        return evidence.report(id);
    }

    @GET
    @Path("/{id}/evidence")
    @RolesAllowed({ Roles.LEGAL, Roles.APPROVER })
    @Produces(MediaType.TEXT_HTML)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "The tenant's evidence report as a printable HTML page")
    public Uni<String> evidenceHtml(@PathParam("id") UUID id) {
        return evidence.report(id).map(TenantEvidence::html);
    }

    @PATCH
    @Path("/{id}")
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Change a tenant (name, external reference; a new contact e-mail "
            + "is proposed, in force once a second person confirms it)")
    public Uni<TenantView> update(@PathParam("id") UUID id, @Valid @NotNull TenantUpdate body) {
        return tenants.update(id, body, actor()).call(audit::sequenced);
    }

    @POST
    @Path("/{id}/contact-confirmations")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Put a proposed contact address in force, as a second person "
            + "(notices and the tenant's link go there)")
    public Uni<TenantView> confirmContact(@PathParam("id") UUID id, @Valid @NotNull LeaseApi.ContactConfirmation body) {
        return tenants.confirmContact(id, body.contactEmail(), body.reason(), io.metalgate.security.Actors.person(identity))
                .call(audit::sequenced);
    }

    @DELETE
    @Path("/{id}")
    @RolesAllowed(Roles.OPERATOR)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Delete a tenant that never held a lease")
    public Uni<Response> delete(@PathParam("id") UUID id) {
        return tenants.delete(id, actor()).call(audit::sequenced).map(v -> Response.noContent().build());
    }

    private String actor() {
        return identity.getPrincipal().getName();
    }
}
