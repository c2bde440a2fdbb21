package io.metalgate.conductor;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.metalgate.gate.Action;
import io.metalgate.gate.Decision;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Gate;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Bulk actions: a plan decides every selected machine with the blast radius in its facts (machines in
 * the window, share of each tenant's fleet), records the fingerprint of those facts, and is executed
 * only by its id, with the approvals the blast-radius rule asks for, and only while its facts are
 * unchanged (otherwise it is stale and must be made again).
 */
@ApplicationScoped
public class BulkPlans {

    public record Selector(UUID tenantId, UUID leaseId, List<UUID> machineIds) {
    }

    public record MachineDecision(UUID machineId, boolean allowed, List<Decision.Reason> reasons) {
    }

    public record TenantRadius(String tenantId, int machines, int fleet, double share) {
    }

    public record BlastRadius(int machines, int tenants, List<TenantRadius> perTenant) {
    }

    public record Plan(UUID id, Action action, String requestedBy, Instant createdAt, String status, String fingerprint, int allowed,
            int refused, BlastRadius blastRadius, List<String> approvers, List<MachineDecision> decisions) {
    }

    private record Evaluation(List<Facts> facts, List<Decision> decisions, BlastRadius radius, String fingerprint) {
    }

    @Inject
    Pool pool;
    @Inject
    GateFacts gateFacts;
    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;
    @Inject
    ActionService actions;

    public Uni<Plan> plan(Action action, Selector selector, String reason, String person) {
        return select(selector).chain(ids -> {
            if (ids.isEmpty()) {
                throw ApiException.badRequest("selector", "selects no machines");
            }
            return evaluate(action, ids, person, List.of()).chain(ev -> {
                UUID id = UUID.randomUUID();
                Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                // The whole plan once (subject bulk:<id>); per tenant only what concerns it, so no entry
                // grows with the size of the fleet times the number of tenants.
                Map<String, Object> whole = new LinkedHashMap<>();
                whole.put("planId", id.toString());
                whole.put("action", action.name());
                whole.put("selector", selector);
                whole.put("reason", reason);
                whole.put("fingerprint", ev.fingerprint());
                whole.put("blastRadius", ev.radius());
                Map<String, Object> payload = new LinkedHashMap<>();
                payload.put("planId", id.toString());
                payload.put("action", action.name());
                payload.put("reason", reason);
                payload.put("fingerprint", ev.fingerprint());
                payload.put("machines", ev.radius().machines());
                payload.put("tenants", ev.radius().tenants());
                return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                        "INSERT INTO bulk_plan (id, action, selector, machine_ids, fingerprint, requested_by, reason, created_at, status) "
                                + "VALUES (:id, :a, :sel, :ids, :fp, :by, :r, :at, 'PLANNED')")
                        .setParameter("id", id).setParameter("a", action.name()).setParameter("sel", audit.canonical(selector))
                        .setParameter("ids", ids.toArray(new UUID[0]))
                        .setParameter("fp", ev.fingerprint()).setParameter("by", person).setParameter("r", reason)
                        .setParameter("at", now.atOffset(ZoneOffset.UTC)).executeUpdate())
                        .chain(() -> audit.record(person, "bulk.planned", "bulk:" + id, whole))
                        .chain(() -> auditPerTenant(person, "bulk.planned", ids, ev, payload)))
                        .chain(audit::sequenced)
                        .map(v -> view(id, action, person, now, "PLANNED", ids, ev, List.of()));
            });
        });
    }

    public Uni<Plan> approve(UUID planId, String approver, Set<String> roles) {
        return load(planId).chain(p -> {
            ApproverRule.check(p.requestedBy(), approver, roles, "plan", "approve");
            if (p.approvers().contains(approver)) {
                throw ApiException.conflict(approver + " has already approved plan " + planId, "id");
            }
            return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                    "INSERT INTO bulk_plan_approval (plan_id, approver, roles, at) VALUES (:p, :a, :r, :at)")
                    .setParameter("p", planId).setParameter("a", approver).setParameter("r", String.join(",", roles))
                    .setParameter("at", Instant.now().atOffset(ZoneOffset.UTC)).executeUpdate())
                    .chain(() -> auditUnder(approver, "bulk.approved", p.ids(), Map.of("planId", planId.toString()))))
                    .chain(audit::sequenced).chain(() -> get(planId, approver));
        });
    }

    /** Re-checks the facts (stale → 409), decides with the plan's approvals, then acts on each allowed machine. */
    public Uni<Plan> execute(UUID planId, String person) {
        return load(planId).chain(p -> {
            if (!p.status().equals("PLANNED")) {
                throw ApiException.conflict("plan " + planId + " is " + p.status(), "id");
            }
            return evaluate(p.action(), p.ids(), p.requestedBy(), p.approvals()).chain(ev -> {
                if (!ev.fingerprint().equals(p.fingerprint())) {
                    return Panache.withTransaction(() -> auditUnder(person, "bulk.refused-stale", p.ids(), Map.of("planId",
                            planId.toString(), "plannedFingerprint", p.fingerprint(), "currentFingerprint", ev.fingerprint())))
                            .chain(audit::sequenced).map(v -> {
                                throw new ApiException(Problem.of(409, "stale-plan", "Stale plan", "the facts of plan " + planId
                                        + " changed since it was made (holds, notices, leases or machines); make a new plan"));
                            });
                }
                int allowed = (int) ev.decisions().stream().filter(Decision::allowed).count();
                if (allowed == 0) {
                    Map<String, Object> payload = new LinkedHashMap<>();
                    payload.put("planId", planId.toString());
                    return Panache.withTransaction(() -> auditPerTenant(person, "bulk.refused", p.ids(), ev, payload)).chain(audit::sequenced)
                            .map(v -> {
                                throw new ApiException(Problem.of(409, "gate-refused", "Refused by the gate", "no machine of plan "
                                        + planId + " may be acted on: " + summary(ev.decisions())));
                            });
                }
                List<UUID> go = new ArrayList<>();
                for (int i = 0; i < p.ids().size(); i++) {
                    if (ev.decisions().get(i).allowed()) {
                        go.add(p.ids().get(i));
                    }
                }
                return Multi.createFrom().iterable(go)
                        .onItem().transformToUniAndConcatenate(m -> actions.executeDecided(m, p.action(), ev.facts().get(p.ids().indexOf(m)),
                                ev.decisions().get(p.ids().indexOf(m)), person))
                        .collect().asList()
                        .chain(x -> Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                                "UPDATE bulk_plan SET status = 'EXECUTED' WHERE id = :id").setParameter("id", planId).executeUpdate())))
                        .chain(() -> get(planId, person));
            });
        });
    }

    public Uni<Plan> get(UUID planId, String person) {
        return load(planId).chain(p -> evaluate(p.action(), p.ids(), p.requestedBy(), p.approvals())
                .map(ev -> view(planId, p.action(), p.requestedBy(), p.createdAt(), p.status(), p.ids(), ev,
                        p.approvals().stream().map(Facts.ApprovalFact::approver).toList())));
    }

    private record Stored(Action action, List<UUID> ids, String fingerprint, String requestedBy, Instant createdAt, String status,
            List<Facts.ApprovalFact> approvals, List<String> approvers) {
    }

    private Uni<Stored> load(UUID planId) {
        return pool.preparedQuery("SELECT action, machine_ids, fingerprint, requested_by, created_at, status FROM bulk_plan WHERE id = $1")
                .execute(Tuple.of(planId)).chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("plan", planId);
                    }
                    Row r = rows.iterator().next();
                    return pool.preparedQuery("SELECT approver, roles, at FROM bulk_plan_approval WHERE plan_id = $1 ORDER BY at")
                            .execute(Tuple.of(planId)).map(ap -> {
                                List<Facts.ApprovalFact> approvals = new ArrayList<>();
                                ap.forEach(a -> approvals.add(new Facts.ApprovalFact(a.getString("approver"),
                                        new LinkedHashSet<>(Arrays.asList(a.getString("roles").split(","))),
                                        a.getOffsetDateTime("at").toInstant())));
                                return new Stored(Action.valueOf(r.getString("action")), Arrays.asList(r.getArrayOfUUIDs("machine_ids")),
                                        r.getString("fingerprint"), r.getString("requested_by"), r.getOffsetDateTime("created_at").toInstant(),
                                        r.getString("status"), approvals, approvals.stream().map(Facts.ApprovalFact::approver).toList());
                            });
                });
    }

    private Uni<List<UUID>> select(Selector s) {
        if (s.machineIds() != null && !s.machineIds().isEmpty()) {
            return pool.preparedQuery("SELECT m.id FROM unnest($1::uuid[]) AS sel(id) JOIN machine m ON m.id = sel.id ORDER BY m.name")
                    .execute(Tuple.of(s.machineIds().toArray(new UUID[0]))).map(BulkPlans::ids);
        }
        if (s.leaseId() != null) {
            return pool.preparedQuery("SELECT m.id FROM lease_machine lm JOIN machine m ON m.id = lm.machine_id WHERE lm.lease_id = $1 "
                    + "ORDER BY m.name").execute(Tuple.of(s.leaseId())).map(BulkPlans::ids);
        }
        if (s.tenantId() != null) {
            return pool.preparedQuery("SELECT m.id FROM lease l JOIN lease_machine lm ON lm.lease_id = l.id JOIN machine m "
                    + "ON m.id = lm.machine_id WHERE l.tenant_id = $1 ORDER BY m.name").execute(Tuple.of(s.tenantId())).map(BulkPlans::ids);
        }
        throw ApiException.badRequest("selector", "name a tenantId, leaseId or machineIds");
    }

    private static List<UUID> ids(io.vertx.mutiny.sqlclient.RowSet<Row> rows) {
        List<UUID> out = new ArrayList<>();
        rows.forEach(r -> out.add(r.getUUID("id")));
        return out;
    }

    /** Facts of every machine, the blast radius put into each, and one decision per machine. */
    private Uni<Evaluation> evaluate(Action action, List<UUID> ids, String requester, List<Facts.ApprovalFact> approvals) {
        return gateFacts.forMachines(ids, requester).invoke(base -> {
            if (base.size() != ids.size()) {
                throw new ApiException(Problem.of(409, "stale-plan", "Stale plan", (ids.size() - base.size())
                        + " machine(s) of the plan no longer exist; make a new plan"));
            }
        }).chain(base -> fleetSizes(base).map(fleet -> {
                    Map<String, Integer> perTenant = new TreeMap<>();
                    base.forEach(f -> f.lease().ifPresent(l -> perTenant.merge(l.tenantId(), 1, Integer::sum)));
                    List<TenantRadius> radius = perTenant.entrySet().stream().map(e -> {
                        int size = fleet.getOrDefault(e.getKey(), e.getValue());
                        return new TenantRadius(e.getKey(), e.getValue(), size, size == 0 ? 0 : (double) e.getValue() / size);
                    }).toList();
                    Instant now = Instant.now();
                    List<Facts> facts = new ArrayList<>();
                    List<Decision> decisions = new ArrayList<>();
                    StringBuilder fp = new StringBuilder();
                    for (Facts f : base) {
                        String tenant = f.lease().map(Facts.LeaseFacts::tenantId).orElse(null);
                        Facts withBulk = new Facts(f.machine(), f.lease(), f.holds(), f.notices(), f.request(), approvals,
                                new Facts.BulkFacts(ids.size(), tenant == null ? 1 : perTenant.get(tenant),
                                        tenant == null ? 1 : fleet.getOrDefault(tenant, 1)));
                        facts.add(withBulk);
                        decisions.add(Gate.decide(action, withBulk, gateFacts.policy(), now));
                        // the fingerprint covers what a plan stands on: machine, lease, holds, notices
                        fp.append(audit.canonical(Map.of("machine", f.machine(), "lease", f.lease().orElse(null) == null ? "none" : f.lease().get(),
                                "holds", f.holds(), "notices", f.notices())));
                    }
                    return new Evaluation(facts, decisions, new BlastRadius(ids.size(), perTenant.size(), radius),
                            AuditHashes.sha256Hex(fp.toString()));
                }));
    }

    private Uni<Map<String, Integer>> fleetSizes(List<Facts> facts) {
        Set<UUID> tenants = new LinkedHashSet<>();
        facts.forEach(f -> f.lease().ifPresent(l -> tenants.add(UUID.fromString(l.tenantId()))));
        if (tenants.isEmpty()) {
            return Uni.createFrom().item(Map.of());
        }
        return pool.preparedQuery("SELECT l.tenant_id, count(*) FROM lease l JOIN lease_machine lm ON lm.lease_id = l.id "
                + "WHERE l.tenant_id = ANY($1) GROUP BY l.tenant_id").execute(Tuple.of(tenants.toArray(new UUID[0]))).map(rows -> {
                    Map<String, Integer> out = new HashMap<>();
                    rows.forEach(r -> out.put(r.getUUID(0).toString(), r.getLong(1).intValue()));
                    return out;
                });
    }

    /**
     * One audit entry per tenant the plan touches, holding that tenant's machines' decisions (reason
     * codes): the tenant's evidence shows them, and no entry grows with the size of the whole fleet.
     */
    private Uni<Void> auditPerTenant(String actor, String action, List<UUID> ids, Evaluation ev, Map<String, Object> common) {
        Map<String, List<Integer>> byTenant = new TreeMap<>();
        for (int i = 0; i < ids.size(); i++) {
            String tenant = ev.facts().get(i).lease().map(Facts.LeaseFacts::tenantId).map(t -> "tenant:" + t)
                    .orElse("bulk:" + common.get("planId"));
            byTenant.computeIfAbsent(tenant, k -> new ArrayList<>()).add(i);
        }
        Uni<Void> chain = Uni.createFrom().voidItem();
        for (var e : byTenant.entrySet()) {
            Map<String, Object> payload = new LinkedHashMap<>(common);
            payload.put("decisions", decisionsPayload(e.getValue().stream().map(ids::get).toList(),
                    e.getValue().stream().map(ev.decisions()::get).toList()));
            chain = chain.chain(() -> audit.record(actor, action, e.getKey(), payload));
        }
        return chain;
    }

    /** A plan's audit entries go under every tenant it touches and under the plan. */
    private Uni<Void> auditUnder(String actor, String action, List<UUID> ids, Map<String, Object> payload) {
        return pool.preparedQuery("SELECT DISTINCT l.tenant_id FROM lease_machine lm JOIN lease l ON l.id = lm.lease_id "
                + "JOIN unnest($1::uuid[]) AS sel(id) ON sel.id = lm.machine_id").execute(Tuple.of(ids.toArray(new UUID[0]))).chain(rows -> {
                    List<String> subjects = new ArrayList<>();
                    rows.forEach(r -> subjects.add("tenant:" + r.getUUID(0)));
                    if (subjects.isEmpty()) {
                        subjects.add("bulk:" + payload.get("planId"));
                    }
                    Uni<Void> chain = Uni.createFrom().voidItem();
                    for (String s : subjects) {
                        chain = chain.chain(() -> audit.record(actor, action, s, payload));
                    }
                    return chain;
                });
    }

    private static List<Map<String, Object>> decisionsPayload(List<UUID> ids, List<Decision> decisions) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("machineId", ids.get(i).toString());
            d.put("allowed", decisions.get(i).allowed());
            d.put("reasons", decisions.get(i).reasons().stream().map(r -> r.code().name()).toList());
            out.add(d);
        }
        return out;
    }

    private static String summary(List<Decision> decisions) {
        Map<String, Integer> counts = new TreeMap<>();
        decisions.forEach(d -> d.reasons().forEach(r -> counts.merge(r.code().name(), 1, Integer::sum)));
        return counts.toString();
    }

    private static Plan view(UUID id, Action action, String requester, Instant createdAt, String status, List<UUID> ids, Evaluation ev,
            List<String> approvers) {
        List<MachineDecision> decisions = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            decisions.add(new MachineDecision(ids.get(i), ev.decisions().get(i).allowed(), ev.decisions().get(i).reasons()));
        }
        int allowed = (int) decisions.stream().filter(MachineDecision::allowed).count();
        return new Plan(id, action, requester, createdAt, status, ev.fingerprint(), allowed, decisions.size() - allowed, ev.radius(),
                approvers, decisions);
    }

}
