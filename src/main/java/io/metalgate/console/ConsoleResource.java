package io.metalgate.console;

import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.conductor.ActionRequestResource;
import io.metalgate.conductor.ActionResource;
import io.metalgate.conductor.Approvals;
import io.metalgate.conductor.BulkPlans;
import io.metalgate.conductor.BulkResource;
import io.metalgate.conductor.CertificateResource;
import io.metalgate.conductor.EraseReports;
import io.metalgate.conductor.GateResource;
import io.metalgate.conductor.HardwareResource;
import io.metalgate.conductor.MachineActionRequestResource;
import io.metalgate.conductor.MachineBmcResource;
import io.metalgate.driver.api.Inventory;
import io.metalgate.evidence.AuditIntegrity;
import io.metalgate.evidence.AuditResource;
import io.metalgate.gate.Action;
import io.metalgate.integration.DeadLetterResource;
import io.metalgate.integration.DeadLetters;
import io.metalgate.integration.IntegrationResource;
import io.metalgate.integration.Integrations;
import io.metalgate.lease.HoldResource;
import io.metalgate.lease.LeaseApi;
import io.metalgate.lease.LeaseResource;
import io.metalgate.lease.TenantResource;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineApi;
import io.metalgate.machine.MachineResource;
import io.metalgate.security.ConsoleSessionMechanism;
import io.metalgate.security.Roles;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The NOC console's pages (server-rendered Qute; htmx and server-sent events only make them live). Each page reads
 * through {@link ConsoleQueries} or the API's own resources; each action calls the very API resource method a REST
 * client would (the same role checks, validation, gate, audit), after the session's CSRF token was checked. Nothing
 * here decides anything.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
@Tag(name = "console")
public class ConsoleResource {

    static final int PAGE_SIZE = 50;
    static final List<Action> GATED = List.of(Action.POWER_OFF, Action.ERASE, Action.REASSIGN);

    /** A machine's page: what it is, its gate, its history. */
    public record MachinePage(ConsoleQueries.MachineRow row, MachineApi.MachineView machine, List<GateResource.Explanation> gate,
            Inventory inventory, List<ConsoleQueries.Transition> timeline, List<EraseReports.Certificate> certificates,
            List<Approvals.RequestView> requests) {
    }

    public record HoldRow(io.metalgate.lease.HoldService.HoldView hold, String tenant) {
    }

    public record RequestRow(Approvals.RequestView request, String machine) {
    }

    public record PlanPage(BulkPlans.Plan plan, Map<UUID, String> names, Map<String, String> tenants, String confirmation,
            List<BulkPlans.MachineDecision> refusals) {
    }

    public record AuditPage(List<AuditResource.AuditEntryView> entries, String subject, String actor, String action, long afterSeq,
            long nextAfterSeq, long head, String integrity, Long lastSigned) {

        /** The next page's query, its filters encoded. */
        public String nextQuery() {
            StringBuilder sb = new StringBuilder("afterSeq=" + nextAfterSeq);
            append(sb, "subject", subject);
            append(sb, "actor", actor);
            append(sb, "action", action);
            return sb.toString();
        }
    }

    public record IntegrationsPage(List<Integrations.View> integrations, DeadLetters.Page deadLetters, List<RouteRow> routes) {
    }

    /** A Camel route as the integrations page shows it. */
    public record RouteRow(String id, String from, String status, String uptime) {
        public boolean started() {
            return "Started".equals(status);
        }
    }

    @CheckedTemplate(basePath = "console")
    static class Templates {
        static native TemplateInstance dashboard(Page page, ConsoleQueries.Fleet fleet, List<ConsoleQueries.EraseRow> erasing);

        static native TemplateInstance machines(Page page, ConsoleQueries.MachinePage table, ConsoleQueries.MachineFilter filter,
                String tenantId, List<ConsoleQueries.Choice> tenants, List<String> racks, List<String> states, String query);

        static native TemplateInstance machine(Page page, MachinePage m);

        static native TemplateInstance tenants(Page page, List<ConsoleQueries.TenantRow> tenants, List<LeaseApi.LeaseView> leases,
                Map<UUID, String> names);

        static native TemplateInstance holds(Page page, List<HoldRow> holds, List<ConsoleQueries.Choice> tenants);

        static native TemplateInstance approvals(Page page, List<RequestRow> requests);

        static native TemplateInstance notices(Page page, List<ConsoleQueries.NoticeRow> notices);

        static native TemplateInstance operations(Page page, List<ConsoleQueries.EraseRow> erasing, List<ConsoleQueries.PlanRow> plans);

        static native TemplateInstance plan(Page page, PlanPage p);

        static native TemplateInstance audit(Page page, AuditPage a);

        static native TemplateInstance integrations(Page page, IntegrationsPage i);

        static native TemplateInstance error(Page page, int status);
    }

    @Inject
    SecurityIdentity identity;
    @Inject
    ConsoleQueries queries;
    @Inject
    MachineResource machineApi;
    @Inject
    MachineBmcResource bmcApi;
    @Inject
    ActionResource actionApi;
    @Inject
    io.metalgate.conductor.PowerSyncResource powerSyncApi;
    @Inject
    GateResource gateApi;
    @Inject
    HardwareResource hardwareApi;
    @Inject
    CertificateResource certificateApi;
    @Inject
    MachineActionRequestResource requestApi;
    @Inject
    ActionRequestResource approvalApi;
    @Inject
    HoldResource holdApi;
    @Inject
    TenantResource tenantApi;
    @Inject
    LeaseResource leaseApi;
    @Inject
    BulkResource bulkApi;
    @Inject
    AuditResource auditApi;
    @Inject
    AuditIntegrity integrity;
    @Inject
    IntegrationResource integrationApi;
    @Inject
    DeadLetterResource deadLetterApi;
    @Inject
    org.apache.camel.CamelContext camel;

    // ---------------------------------------------------------------- pages

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: the fleet dashboard")
    public Uni<Response> dashboard() {
        Page page = page("dashboard");
        return render(queries.fleet().chain(fleet -> queries.erasing().map(erasing -> Templates.dashboard(page, fleet, erasing))));
    }

    @GET
    @Path("/machines")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: the machines table (filters, search, paging, selection for bulk actions)")
    public Uni<Response> machines(@QueryParam("q") String q, @QueryParam("tenant") String tenant, @QueryParam("state") String state,
            @QueryParam("rack") String rack, @QueryParam("power") String power, @QueryParam("page") @DefaultValue("0") int pageNo) {
        Page page = page("machines");
        UUID tenantId = uuidOrNull(tenant);
        String st = blankToNull(state);
        if (st != null && Arrays.stream(LifecycleState.values()).noneMatch(s -> s.name().equals(st))) {
            return Uni.createFrom().item(errorResponse(page.with("Unknown state: " + st, true, null), 400));
        }
        String pw = blankToNull(power);
        if (pw != null && !List.of("ON", "OFF", "UNKNOWN").contains(pw)) {
            return Uni.createFrom().item(errorResponse(page.with("Unknown power state: " + pw, true, null), 400));
        }
        var filter = new ConsoleQueries.MachineFilter(blankToNull(q), tenantId, st, blankToNull(rack), pw);
        int p = Math.max(0, Math.min(pageNo, 100_000));
        String query = query(filter);
        return render(queries.machines(filter, p, PAGE_SIZE).chain(table -> queries.tenantChoices().chain(tenants -> queries.racks()
                .map(racks -> Templates.machines(page, table, filter, tenantId == null ? "" : tenantId.toString(), tenants, racks,
                        Arrays.stream(LifecycleState.values()).map(Enum::name).toList(), query)))));
    }

    @GET
    @Path("/machines/{id}")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: one machine (inventory, BMC, actions, gate panel, timeline, certificates)")
    public Uni<Response> machine(@PathParam("id") String id) {
        return machinePage(page("machines"), id, 200);
    }

    @GET
    @Path("/tenants")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: tenants and their leases")
    public Uni<Response> tenants() {
        Page page = page("tenants");
        return render(queries.tenants().chain(tenants -> leaseApi.list(null, null, 0, 500).chain(leases -> queries.tenantNames()
                .map(names -> Templates.tenants(page, tenants, leases.items(), names)))));
    }

    @GET
    @Path("/tenants/{id}/evidence")
    @RolesAllowed({ Roles.LEGAL, Roles.APPROVER })
    @Operation(summary = "Console: a tenant's evidence report (printable)")
    public Uni<Response> evidence(@PathParam("id") String id) {
        UUID tenantId = uuidOrNull(id);
        if (tenantId == null) {
            return Uni.createFrom().item(errorResponse(page("tenants").with("No such tenant.", true, null), 404));
        }
        return tenantApi.evidenceHtml(tenantId).map(html -> Response.ok(html, MediaType.TEXT_HTML_TYPE).header("Cache-Control", "no-store").build())
                .onFailure(ApiException.class).recoverWithItem(e -> problemResponse(page("tenants"), ((ApiException) e).problem()));
    }

    @GET
    @Path("/holds")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: holds (place; release by two people)")
    public Uni<Response> holds() {
        return holdsPage(page("holds"), 200);
    }

    @GET
    @Path("/approvals")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: the approvals queue")
    public Uni<Response> approvals() {
        return approvalsPage(page("approvals"), 200);
    }

    @GET
    @Path("/notices")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: notices with their attempts and proofs")
    public Uni<Response> notices(@QueryParam("tenant") String tenant) {
        Page page = page("notices");
        return render(queries.notices(uuidOrNull(tenant)).map(n -> Templates.notices(page, n)));
    }

    @GET
    @Path("/operations")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: erases in progress and bulk plans")
    public Uni<Response> operations() {
        Page page = page("operations");
        return render(queries.erasing().chain(erasing -> queries.plans().map(plans -> Templates.operations(page, erasing, plans))));
    }

    @GET
    @Path("/bulk/{id}")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: a bulk plan's blast radius, refusals and progress")
    public Uni<Response> plan(@PathParam("id") String id) {
        return planPage(page("operations"), id, 200);
    }

    @GET
    @Path("/audit")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: the audit explorer with the chain's verification status")
    public Uni<Response> audit(@QueryParam("subject") String subject, @QueryParam("actor") String actor, @QueryParam("action") String action,
            @QueryParam("afterSeq") @DefaultValue("0") long afterSeq) {
        Page page = page("audit");
        String s = blankToNull(subject);
        String a = blankToNull(actor);
        String ac = blankToNull(action);
        long after = Math.max(0, afterSeq);
        AuditIntegrity.Head signed = integrity.lastSigned();
        return render(auditApi.list(s, a, ac, null, null, after, 100).chain(entries -> queries.auditHead().map(head -> Templates.audit(page,
                new AuditPage(entries.items(), s, a, ac, after, entries.nextAfterSeq(), head, integrity.regression(),
                        signed == null ? null : signed.seq())))));
    }

    @GET
    @Path("/integrations")
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING, Roles.LEGAL })
    @Operation(summary = "Console: integrations, dead letters and replay")
    public Uni<Response> integrations() {
        return integrationsPage(page("integrations"), 200);
    }

    @GET
    @Path("/machines/{id}/certificates/{certificateId}")
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: an erase certificate (printable)")
    public Uni<Response> certificate(@PathParam("id") String id, @PathParam("certificateId") String certificateId) {
        UUID m = uuidOrNull(id);
        UUID c = uuidOrNull(certificateId);
        if (m == null || c == null) {
            return Uni.createFrom().item(errorResponse(page("machines").with("No such certificate.", true, null), 404));
        }
        return certificateApi.page(m, c).map(html -> Response.ok(html, MediaType.TEXT_HTML_TYPE).header("Cache-Control", "no-store").build())
                .onFailure(ApiException.class).recoverWithItem(e -> problemResponse(page("machines"), ((ApiException) e).problem()));
    }

    // ---------------------------------------------------------------- actions (POST, CSRF-checked, by the API's resources)

    @POST
    @Path("/machines/{id}/power")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER) // the API method below names who may; the page only hides what one may not
    @Operation(summary = "Console: power on, off or cycle a machine (through the gate)")
    public Uni<Response> power(@PathParam("id") String id, @FormParam("_csrf") String csrf, @FormParam("op") String op,
            @FormParam("emergencyReason") String emergencyReason) {
        Page page = checked(csrf, "machines");
        UUID m = uuidOrNull(id);
        return act(page, m, () -> bmcApi.power(m, new MachineBmcResource.PowerBody(String.valueOf(op), null, null, blankToNull(emergencyReason)))
                // read the BMC back at once, so the page shows the power state it now reports (not the last sweep's)
                .call(r -> powerSyncApi.sweep(List.of(m)).onFailure().recoverWithNull())
                .map(r -> "Power " + String.valueOf(op).toLowerCase(java.util.Locale.ROOT) + ": allowed by the gate and sent to the BMC ("
                        + r.state() + ")"));
    }

    @POST
    @Path("/machines/{id}/boot")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: set a machine's boot override (through the gate)")
    public Uni<Response> boot(@PathParam("id") String id, @FormParam("_csrf") String csrf, @FormParam("device") String device,
            @FormParam("persistent") String persistent, @FormParam("emergencyReason") String emergencyReason,
            @FormParam("requestId") String requestId) {
        Page page = checked(csrf, "machines");
        UUID m = uuidOrNull(id);
        var d = enumOrNull(io.metalgate.driver.api.BootOverride.Device.class, device);
        return act(page, m, () -> bmcApi.setBootDevice(m, null, new MachineBmcResource.BootBody(d, "on".equals(persistent), null,
                uuidOrNull(requestId), null, blankToNull(emergencyReason))).map(r -> "Boot override " + d + ": allowed by the gate and set on the BMC"));
    }

    @POST
    @Path("/machines/{id}/act")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: erase or reassign a machine, or power it off (through the gate)")
    public Uni<Response> act(@PathParam("id") String id, @FormParam("_csrf") String csrf, @FormParam("action") String action,
            @FormParam("requestId") String requestId) {
        Page page = checked(csrf, "machines");
        UUID m = uuidOrNull(id);
        return act(page, m, () -> actionApi.act(m, String.valueOf(action), new ActionResource.ActionBody(uuidOrNull(requestId), null, null, null))
                .map(r -> action + ": allowed by the gate; the machine is now " + r.state()));
    }

    @POST
    @Path("/machines/{id}/requests")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: ask for approval of an action on a machine")
    public Uni<Response> request(@PathParam("id") String id, @FormParam("_csrf") String csrf, @FormParam("action") String action,
            @FormParam("reason") String reason) {
        Page page = checked(csrf, "machines");
        UUID m = uuidOrNull(id);
        Action a = enumOrNull(Action.class, action);
        return act(page, m, () -> requestApi.request(m, new MachineActionRequestResource.RequestBody(a, reason))
                .map(r -> "Approval of " + a + " requested; a second person approves it under Approvals"));
    }

    @POST
    @Path("/approvals/{id}/{decision:approve|reject}")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: approve or reject an approval request")
    public Uni<Response> decide(@PathParam("id") String id, @PathParam("decision") String decision, @FormParam("_csrf") String csrf,
            @FormParam("reason") String reason) {
        Page page = checked(csrf, "approvals");
        UUID r = uuidOrNull(id);
        if (r == null) {
            return approvalsPage(page.with("No such request.", true, null), 404);
        }
        var body = new ActionRequestResource.DecisionBody(blankToNull(reason));
        Uni<Approvals.RequestView> done = "approve".equals(decision) ? approvalApi.approve(r, body) : approvalApi.reject(r, body);
        return outcome(done.map(v -> "Request " + v.id() + " is now " + v.status()), (msg, status) -> approvalsPage(msg, status), page);
    }

    @POST
    @Path("/holds")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: place a hold on a tenant")
    public Uni<Response> placeHold(@FormParam("_csrf") String csrf, @FormParam("kind") String kind, @FormParam("tenantId") String tenantId,
            @FormParam("reason") String reason) {
        Page page = checked(csrf, "holds");
        var body = new HoldResource.PlaceHold(enumOrNull(io.metalgate.lease.Hold.Kind.class, kind), uuidOrNull(tenantId), null, null, reason);
        return outcome(holdApi.place(body).map(r -> "Hold placed: nothing it covers can be erased, reassigned or booted from another medium while it stands"),
                (msg, status) -> holdsPage(msg, status), page);
    }

    @POST
    @Path("/holds/{id}/release")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: ask for, or confirm, the release of a hold (two people, one of them legal)")
    public Uni<Response> releaseHold(@PathParam("id") String id, @FormParam("_csrf") String csrf, @FormParam("reason") String reason) {
        Page page = checked(csrf, "holds");
        UUID h = uuidOrNull(id);
        if (h == null) {
            return holdsPage(page.with("No such hold.", true, null), 404);
        }
        return outcome(holdApi.release(h, new HoldResource.ReleaseHold(reason)).map(v -> v.active()
                ? "Release requested by " + v.releaseRequestedBy() + "; a second person (one of you legal) must confirm it"
                : "Hold released by " + v.releaseRequestedBy() + " and " + v.releasedBy()), (msg, status) -> holdsPage(msg, status), page);
    }

    @POST
    @Path("/bulk")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: plan a bulk action (preview its blast radius; nothing happens yet)")
    public Uni<Response> planBulk(@FormParam("_csrf") String csrf, @FormParam("action") String action, @FormParam("reason") String reason,
            @FormParam("ids") List<String> ids, @FormParam("scope") String scope, @FormParam("q") String q, @FormParam("tenant") String tenant,
            @FormParam("state") String state, @FormParam("rack") String rack, @FormParam("power") String power) {
        Page page = checked(csrf, "machines");
        Uni<List<UUID>> machines;
        if ("filter".equals(scope)) {
            // exactly the machines the table counted for these filters (the same query), named one by one
            var filter = new ConsoleQueries.MachineFilter(blankToNull(q), uuidOrNull(tenant), blankToNull(state), blankToNull(rack),
                    blankToNull(power));
            machines = queries.machineIds(filter, BULK_LIMIT + 1);
        } else {
            machines = Uni.createFrom().item(ids == null ? List.<UUID>of()
                    : ids.stream().map(ConsoleResource::uuidOrNull).filter(java.util.Objects::nonNull).distinct().toList());
        }
        return machines.chain(selected -> {
            if (selected.isEmpty()) {
                return Uni.createFrom().item(errorResponse(page.with("Select machines first (or choose \"every machine matching the filter\"): "
                        + "no machine was selected.", true, null), 400));
            }
            if (selected.size() > BULK_LIMIT) {
                return Uni.createFrom().item(errorResponse(page.with("More than " + BULK_LIMIT + " machines: narrow the filter.", true, null), 400));
            }
            var selector = new BulkResource.SelectorBody(null, null, selected, null);
            return guard(page, () -> bulkApi.plan(String.valueOf(action), new BulkResource.PlanBody(selector, reason), true)
                    .map(r -> Response.seeOther(URI.create("/console/bulk/" + ((BulkPlans.Plan) r.getEntity()).id())).build()));
        });
    }

    /** The most machines one bulk plan names (the API's own limit). */
    static final int BULK_LIMIT = 100_000;

    @POST
    @Path("/bulk/{id}/approve")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: approve a bulk plan (a second person)")
    public Uni<Response> approvePlan(@PathParam("id") String id, @FormParam("_csrf") String csrf) {
        Page page = checked(csrf, "operations");
        UUID p = uuidOrNull(id);
        if (p == null) {
            return planPage(page.with("No such plan.", true, null), id, 404);
        }
        return outcome(bulkApi.approve(p).map(v -> "Plan approved"), (msg, status) -> planPage(msg, id, status), page);
    }

    @POST
    @Path("/bulk/{id}/execute")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: execute a bulk plan after the typed confirmation naming its action and count")
    public Uni<Response> executePlan(@PathParam("id") String id, @FormParam("_csrf") String csrf, @FormParam("confirm") String confirm) {
        Page page = checked(csrf, "operations");
        UUID p = uuidOrNull(id);
        if (p == null) {
            return planPage(page.with("No such plan.", true, null), id, 404);
        }
        return guard(page, () -> bulkApi.get(p, true).chain(plan -> {
            String expected = confirmation(plan);
            if (confirm == null || !expected.equals(confirm.trim())) {
                return planPage(page.with("Type \"" + expected + "\" to confirm: nothing was done", true, null), id, 400);
            }
            return outcome(bulkApi.execute(p, true).map(r -> "Executing: " + plan.allowed() + " machine(s); progress below"),
                    (msg, status) -> planPage(msg, id, status), page);
        }));
    }

    @POST
    @Path("/dead-letters/{id}/replay")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @RolesAllowed(Roles.VIEWER)
    @Blocking
    @Operation(summary = "Console: replay a dead letter (billing)")
    public Response replay(@PathParam("id") String id, @FormParam("_csrf") String csrf) {
        Page page = checked(csrf, "integrations");
        UUID d = uuidOrNull(id);
        String message;
        boolean failed;
        int status;
        try {
            if (d == null) {
                throw ApiException.notFound("dead letter", id);
            }
            DeadLetters.Replay r = deadLetterApi.replay(d);
            message = "Replayed: " + r;
            failed = false;
            status = 200;
        } catch (ApiException e) {
            message = e.problem().detail();
            failed = true;
            status = e.problem().status();
        } catch (ForbiddenException e) {
            message = "Your roles do not allow this (replaying a lease event is billing's)";
            failed = true;
            status = 403;
        }
        return integrationsPage(page.with(message, failed, null), status).await().indefinitely();
    }

    // ---------------------------------------------------------------- page builders

    private Uni<Response> machinePage(Page page, String id, int status) {
        UUID m = uuidOrNull(id);
        if (m == null) {
            return Uni.createFrom().item(errorResponse(page.with("No such machine: " + id, true, null), 404));
        }
        return page(page, status, machineApi.get(m).chain(view -> queries.machine(m).chain(row -> gate(m, 0, new ArrayList<>())
                .chain(gate -> hardwareApi.get(m).onFailure(ApiException.class).recoverWithNull()
                        .chain(inventory -> queries.timeline(m).chain(timeline -> certificateApi.list(m)
                                .chain(certificates -> requestApi.requests(m).map(requests -> Templates.machine(page,
                                        new MachinePage(row, view, gate, inventory, timeline, certificates, requests))))))))));
    }

    // one action after the other: the explanations share the request's database session
    private Uni<List<GateResource.Explanation>> gate(UUID m, int i, List<GateResource.Explanation> out) {
        if (i == GATED.size()) {
            return Uni.createFrom().item(out);
        }
        return gateApi.explain(m, GATED.get(i).name(), null).chain(e -> {
            out.add(e);
            return gate(m, i + 1, out);
        });
    }

    private Uni<Response> holdsPage(Page page, int status) {
        return page(page, status, holdApi.list(null, null).chain(holds -> queries.tenantNames().chain(names -> queries.tenantChoices()
                .map(tenants -> Templates.holds(page, holds.stream().sorted((a, b) -> Boolean.compare(b.active(), a.active()))
                        .map(h -> new HoldRow(h, names.getOrDefault(h.tenantId(), String.valueOf(h.tenantId())))).toList(), tenants)))));
    }

    private Uni<Response> approvalsPage(Page page, int status) {
        return page(page, status, queries.pendingRequests().chain(ids -> requests(ids, 0, new ArrayList<>()))
                .chain(list -> queries.machineNames(list.stream().map(Approvals.RequestView::machineId).toList())
                        .map(names -> Templates.approvals(page, list.stream().map(r -> new RequestRow(r, names.get(r.machineId()))).toList()))));
    }

    private Uni<List<Approvals.RequestView>> requests(List<UUID> ids, int i, List<Approvals.RequestView> out) {
        if (i == ids.size()) {
            return Uni.createFrom().item(out);
        }
        return approvalApi.get(ids.get(i)).chain(r -> {
            out.add(r);
            return requests(ids, i + 1, out);
        });
    }

    private Uni<Response> planPage(Page page, String id, int status) {
        UUID p = uuidOrNull(id);
        if (p == null) {
            return Uni.createFrom().item(errorResponse(page.with("No such plan: " + id, true, null), 404));
        }
        return page(page, status, bulkApi.get(p, false).chain(plan -> {
            List<BulkPlans.MachineDecision> refusals = plan.decisions() == null ? List.of()
                    : plan.decisions().stream().filter(d -> !d.allowed()).limit(500).toList();
            List<UUID> ids = new ArrayList<>(refusals.stream().map(BulkPlans.MachineDecision::machineId).toList());
            if (plan.executions() != null) {
                plan.executions().stream().limit(500).forEach(e -> ids.add(e.machineId()));
            }
            return queries.machineNames(ids).chain(names -> queries.tenantNames().map(tenants -> {
                Map<String, String> t = new LinkedHashMap<>();
                tenants.forEach((k, v) -> t.put(k.toString(), v));
                return Templates.plan(page, new PlanPage(plan.summary(), names, t, confirmation(plan), refusals));
            }));
        }));
    }

    private Uni<Response> integrationsPage(Page page, int status) {
        return page(page, status, integrationApi.list().chain(list -> deadLetterApi.list(null, null, 0, 100)
                .map(dead -> Templates.integrations(page, new IntegrationsPage(list, dead, routes())))));
    }

    private List<RouteRow> routes() {
        return camel.getRoutes().stream().sorted(java.util.Comparator.comparing(org.apache.camel.Route::getRouteId))
                .map(r -> new RouteRow(r.getRouteId(), endpointShown(r.getEndpoint().getEndpointUri()),
                        String.valueOf(camel.getRouteController().getRouteStatus(r.getRouteId())), r.getUptime()))
                .toList();
    }

    /** A route's endpoint without its options or user information (where passwords and keys would be). */
    static String endpointShown(String uri) {
        String s = uri;
        int q = s.indexOf('?');
        if (q >= 0) {
            s = s.substring(0, q);
        }
        return s.replaceFirst("^([a-zA-Z][a-zA-Z0-9+.-]*:(?://)?)[^/@]*@", "$1");
    }

    /** What the operator types to execute a plan: its action and how many machines it will act on. */
    static String confirmation(BulkPlans.Plan plan) {
        return plan.action().name() + " " + plan.allowed();
    }

    // ---------------------------------------------------------------- plumbing

    /** The page context for a signed-in user. */
    private Page page(String section) {
        String csrf = identity.isAnonymous() ? null : identity.getAttribute(ConsoleSessionMechanism.CSRF_ATTRIBUTE);
        return new Page(identity.isAnonymous() ? null : identity.getPrincipal().getName(), identity.getRoles(), csrf, section, null, false,
                List.of());
    }

    /**
     * The synchronizer token check every console form passes before anything else: the token must be this session's.
     * A session cookie alone (a cross-site form, a forged POST) acts on nothing.
     */
    private Page checked(String csrf, String section) {
        Page page = page(section);
        String expected = page.csrf();
        if (expected == null || csrf == null
                || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), csrf.getBytes(StandardCharsets.UTF_8))) {
            throw new CsrfRefused();
        }
        return page;
    }

    /** A form without this session's CSRF token (answered 403 by {@link ConsoleErrors}). */
    public static final class CsrfRefused extends RuntimeException {
        CsrfRefused() {
            super("the form's CSRF token is missing or not this session's", null, false, false);
        }
    }

    /** An action on one machine: its page again, with the outcome on top (the refusal's every reason). */
    private Uni<Response> act(Page page, UUID machine, java.util.function.Supplier<Uni<String>> action) {
        if (machine == null) {
            return Uni.createFrom().item(errorResponse(page.with("No such machine.", true, null), 404));
        }
        return outcome(Uni.createFrom().deferred(() -> action.get()), (msg, status) -> machinePage(msg, machine.toString(), status), page);
    }

    /** Runs an action and shows {@code then} with its outcome: 200 and a message, or the problem's status and reasons. */
    private Uni<Response> outcome(Uni<String> action, java.util.function.BiFunction<Page, Integer, Uni<Response>> then, Page page) {
        return Uni.createFrom().deferred(() -> action).onItemOrFailure().transformToUni((message, failure) -> {
            if (failure == null) {
                return then.apply(page.with(message, false, null), 200);
            }
            Problem problem = problemOf(failure);
            if (problem == null) {
                return Uni.createFrom().failure(failure);
            }
            return then.apply(page.with(problem), problem.status());
        });
    }

    /** Runs something that answers its own response; a refusal is shown on the error page. */
    private Uni<Response> guard(Page page, java.util.function.Supplier<Uni<Response>> action) {
        return Uni.createFrom().deferred(() -> action.get()).onFailure(f -> problemOf(f) != null)
                .recoverWithItem(f -> problemResponse(page, problemOf(f)));
    }

    static Problem problemOf(Throwable failure) {
        if (failure instanceof ApiException api) {
            return api.problem();
        }
        if (failure instanceof ForbiddenException) {
            return Problem.of(403, "forbidden", "Forbidden", "your roles do not allow this");
        }
        if (failure instanceof ConstraintViolationException cve) {
            return Problem.of(400, "validation", "Invalid input", "please correct the form").withErrors(cve.getConstraintViolations().stream()
                    .map(v -> new Problem.FieldError(lastNode(v.getPropertyPath().toString()), v.getMessage())).toList());
        }
        if (failure instanceof io.metalgate.common.StrictParams.BadParameter bad) {
            return bad.problem();
        }
        if (failure instanceof jakarta.ws.rs.WebApplicationException wae && wae.getResponse().getStatus() < 500) {
            return Problem.of(wae.getResponse().getStatus(), "bad-request", "Refused", String.valueOf(wae.getMessage()));
        }
        return null;
    }

    private static String lastNode(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? path : path.substring(dot + 1);
    }

    private Uni<Response> render(Uni<TemplateInstance> template) {
        return page(null, 200, template);
    }

    /** Renders a page with a status; a failure that is a problem renders the error page instead. */
    private Uni<Response> page(Page onError, int status, Uni<TemplateInstance> template) {
        return template.chain(TemplateInstance::createUni).map(html -> Response.status(status).type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
                .header("Cache-Control", "no-store").entity(html).build())
                .onFailure(f -> problemOf(f) != null).recoverWithItem(f -> problemResponse(onError == null ? page("error") : onError, problemOf(f)));
    }

    Response errorResponse(Page page, int status) {
        return Response.status(status).type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8")).header("Cache-Control", "no-store")
                .entity(Templates.error(page, status).render()).build();
    }

    Response problemResponse(Page page, Problem problem) {
        return errorResponse(page.with(problem), problem.status());
    }

    static String query(ConsoleQueries.MachineFilter f) {
        StringBuilder sb = new StringBuilder();
        append(sb, "q", f.q());
        append(sb, "tenant", f.tenantId() == null ? null : f.tenantId().toString());
        append(sb, "state", f.state());
        append(sb, "rack", f.rack());
        append(sb, "power", f.power());
        return sb.toString();
    }

    private static void append(StringBuilder sb, String k, String v) {
        if (v != null) {
            sb.append('&').append(k).append('=').append(java.net.URLEncoder.encode(v, StandardCharsets.UTF_8));
        }
    }

    static UUID uuidOrNull(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return UUID.fromString(s.trim());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static <E extends Enum<E>> E enumOrNull(Class<E> type, String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return Enum.valueOf(type, s.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
