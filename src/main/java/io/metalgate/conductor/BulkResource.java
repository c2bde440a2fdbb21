package io.metalgate.conductor;

import io.metalgate.common.QueryParams;
import io.metalgate.gate.Action;
import io.metalgate.machine.BmcProtocol;
import io.metalgate.machine.LifecycleState;
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
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code /api/bulk}: plan a bulk action, approve the plan, execute it by its id. */
@Path("/api/bulk")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "gate")
public class BulkResource {

    public record SelectorBody(UUID tenantId, UUID leaseId, @Size(max = 100000) List<@NotNull UUID> machineIds, @Valid QueryBody query) {
    }

    /** The filters of {@code GET /api/machines}; {@code name} matches a part of the name. */
    public record QueryBody(@Size(max = 200) String name, @Size(max = 100) String rack, String state, String protocol, Boolean maintenance) {

        BulkPlans.MachineQuery toQuery() {
            return new BulkPlans.MachineQuery(name, rack, QueryParams.enumValue(LifecycleState.class, state, "selector.query.state"),
                    QueryParams.enumValue(BmcProtocol.class, protocol, "selector.query.protocol"), maintenance);
        }
    }

    public record PlanBody(@NotNull @Valid SelectorBody selector, @NotBlank @Size(max = 2000) String reason) {
    }

    @Inject
    BulkPlans plans;
    @Inject
    SecurityIdentity identity;

    @POST
    @Path("/{action}")
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Plan a bulk action: per-machine decisions and the blast radius")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    public Uni<Response> plan(@PathParam("action") String actionParam, @Valid @NotNull PlanBody body,
            @Parameter(description = "answer only the summary (outcomes, blast radius), not each machine's decision")
            @QueryParam("summary") @jakarta.ws.rs.DefaultValue("false") boolean summary) {
        Action action = QueryParams.enumValue(Action.class, actionParam, "action");
        if (action == Action.ERASE_CONTINUE) {
            throw io.metalgate.common.ApiException.badRequest("action", "ERASE_CONTINUE is decided when an erase agent asks for its task");
        }
        if (action == Action.BOOT_LOCAL || action == Action.BOOT_EXTERNAL) {
            throw io.metalgate.common.ApiException.badRequest("action", "boot overrides and media are set per machine");
        }
        var s = body.selector();
        return plans.plan(action, new BulkPlans.Selector(s.tenantId(), s.leaseId(), s.machineIds(),
                s.query() == null ? null : s.query().toQuery()), body.reason(), Actors.person(identity))
                .map(p -> Response.created(URI.create("/api/bulk/plans/" + p.id())).entity(summary ? p.summary() : p).build());
    }

    @GET
    @Path("/plans/{id}")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Read a bulk plan: its blast radius, every refusal with its reason, progress")
    public Uni<BulkPlans.Plan> get(@PathParam("id") UUID id, @QueryParam("summary") @jakarta.ws.rs.DefaultValue("false") boolean summary) {
        return plans.get(id, Actors.person(identity)).map(p -> summary ? p.summary() : p);
    }

    @POST
    @Path("/plans/{id}/approve")
    @RolesAllowed(Roles.APPROVER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Approve a bulk plan (a second person)")
    public Uni<BulkPlans.Plan> approve(@PathParam("id") UUID id) {
        return plans.approve(id, Actors.person(identity), identity.getRoles());
    }

    @POST
    @Path("/plans/{id}/execute")
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Execute a plan by its id (202, EXECUTING; GET the plan for progress and each machine's outcome): refused if "
            + "its facts changed (stale) or the gate refuses every machine")
    public Uni<Response> execute(@PathParam("id") UUID id,
            @QueryParam("summary") @jakarta.ws.rs.DefaultValue("false") boolean summary) {
        return plans.execute(id, Actors.person(identity)).map(p -> Response.accepted(summary ? p.summary() : p).build());
    }
}
