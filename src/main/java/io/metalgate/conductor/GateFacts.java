package io.metalgate.conductor;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.common.ApiException;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Policy;
import io.metalgate.lease.NoticeService;
import io.metalgate.machine.LifecycleState;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import io.vertx.mutiny.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Gathers the facts the gate decides on, for one machine, from the database; and the policy from
 * configuration: the machine and the data it holds, its lease, holds, notices, inventory disks and latest
 * erase certificate (approvals come with the request).
 */
@ApplicationScoped
public class GateFacts {

    @Inject
    Pool pool;
    @Inject
    NoticeService notices;
    @Inject
    MetalgateConfig config;
    @Inject
    io.metalgate.evidence.AuditSigningKey signingKey;

    public Policy policy() {
        var g = config.gate();
        return new Policy(g.retention(), g.noticeLead(), g.escalationAttempts(), g.escalationChannels(), g.escalationWait(),
                g.bulkMachines(), g.bulkTenantShare(), g.bulkWindow(), FROM_STATES);
    }

    /**
     * Per gated action, the states the lifecycle table lets it start from: the rows whose guard names
     * that action's gate (one source of truth for the gate and the transition it allows).
     */
    static final Map<io.metalgate.gate.Action, Set<Facts.MachineState>> FROM_STATES = fromStates();

    private static Map<io.metalgate.gate.Action, Set<Facts.MachineState>> fromStates() {
        Map<io.metalgate.gate.Action, Set<Facts.MachineState>> out = new HashMap<>();
        for (var row : io.metalgate.machine.MachineLifecycle.TABLE.rows()) {
            io.metalgate.gate.Action a = row.guard().equals(io.metalgate.machine.MachineLifecycle.GATE_ERASE) ? io.metalgate.gate.Action.ERASE
                    : row.guard().equals(io.metalgate.machine.MachineLifecycle.GATE_REASSIGN) ? io.metalgate.gate.Action.REASSIGN : null;
            if (a != null) {
                out.computeIfAbsent(a, k -> java.util.EnumSet.noneOf(Facts.MachineState.class)).add(Facts.MachineState.valueOf(row.from().name()));
            }
        }
        return Map.copyOf(out);
    }

    /**
     * Erases started within the policy's bulk window before {@code now} (machines that moved to ERASING),
     * in all and per tenant, leaving out those of bulk plan {@code excludingPlan} (null: none left out; a plan's
     * own machines count as its batch); and the fleet size of each of {@code tenants}. The blast-radius rule counts these together with the machines at hand:
     * eleven single erases in a day need the same second approver as one bulk erase of eleven.
     */
    public Uni<EraseWindow> eraseWindow(Set<UUID> tenants, UUID excludingPlan, java.time.Instant now) {
        return eraseWindow(pool, tenants, excludingPlan, now);
    }

    /** The plan of an erase that belongs to none (a single erase), as tallied. */
    public static final UUID NO_PLAN = new UUID(0, 0);

    /** The states of a machine that went into a tenant's service and holds its data since (SQL list). */
    static final String SERVED = java.util.stream.Stream.of(LifecycleState.DEPLOYING, LifecycleState.DEPLOY_FAILED, LifecycleState.ACTIVE,
            LifecycleState.SUSPENDED, LifecycleState.RETAINED, LifecycleState.ERASING, LifecycleState.ERASE_FAILED)
            .map(st -> "'" + st.name() + "'").collect(java.util.stream.Collectors.joining(", "));

    /**
     * Erases in the window, leaving out those of {@code excludingPlan} (null: none left out), read through {@code db} (a transaction's connection, or
     * the pool), from the hourly erase tallies (V8): a handful of rows whatever the fleet, so it can be asked
     * for every machine of a 60,000-machine plan.
     */
    public Uni<EraseWindow> eraseWindow(SqlClient db, Set<UUID> tenants, UUID excludingPlan, java.time.Instant now) {
        UUID[] tenantIds = tenants.toArray(new UUID[0]);
        // a tenant's fleet: the machines holding its data (whether or not still in a lease) that went into its service. Not
        // those only joined to a lease that never deployed them: anyone who may enroll machines and make leases could pad a
        // tenant's fleet with machines that never held a byte of it, and shrink an erase's share below the limit
        // from the top of the window's first hour: an erase up to an hour older counts too (never fewer)
        java.time.OffsetDateTime since = now.minus(policy().bulkWindow()).atOffset(java.time.ZoneOffset.UTC).truncatedTo(ChronoUnit.HOURS);
        // and not those deployed within the window: machines added to a running lease of the tenant to pad it count only
        // once they have served it a whole window (nothing deployed that recently can be erased: retention is 30 days)
        Uni<Map<String, Integer>> fleet = tenants.isEmpty() ? Uni.createFrom().item(Map.of())
                : db.preparedQuery("SELECT m.data_tenant_id, count(*) FROM machine m WHERE m.data_tenant_id = ANY($1) "
                        + "AND m.lifecycle_state IN (" + SERVED + ") AND NOT EXISTS (SELECT 1 FROM state_transition st "
                        + "WHERE st.subject_type = 'MACHINE' AND st.subject_id = m.id AND st.to_state = 'DEPLOYING' AND st.at >= $2) "
                        + "GROUP BY m.data_tenant_id").execute(Tuple.of(tenantIds, since))
                        .map(GateFacts::countsByTenant);
        Uni<Integer> total = db.preparedQuery("SELECT coalesce(sum(n), 0) FROM erase_tally WHERE hour >= $1 AND plan_id IS DISTINCT FROM $2")
                .execute(Tuple.of(since, excludingPlan)).map(rows -> rows.iterator().next().getLong(0).intValue());
        Uni<Map<String, Integer>> recent = tenants.isEmpty() ? Uni.createFrom().item(Map.of())
                : db.preparedQuery("SELECT tenant_id, sum(n) FROM erase_tally_tenant WHERE tenant_id = ANY($1) AND hour >= $2 "
                        + "AND plan_id IS DISTINCT FROM $3 GROUP BY tenant_id").execute(Tuple.of(tenantIds, since, excludingPlan)).map(GateFacts::countsByTenant);
        return Uni.combine().all().unis(fleet, recent, total).asTuple()
                .map(t -> new EraseWindow(t.getItem3(), t.getItem2(), t.getItem1()));
    }

    /** Tallies an erase started now (in the caller's transaction): one of {@code tenant}'s machines, of {@code plan}. */
    public static Uni<Void> tallyErase(SqlClient tx, UUID tenant, UUID plan) {
        Uni<Void> global = tx.preparedQuery("INSERT INTO erase_tally (hour, plan_id, n) VALUES (date_trunc('hour', now()), $1, 1) "
                + "ON CONFLICT (hour, plan_id) DO UPDATE SET n = erase_tally.n + 1").execute(Tuple.of(plan)).replaceWithVoid();
        return tenant == null ? global : global.chain(() -> tx.preparedQuery("INSERT INTO erase_tally_tenant (tenant_id, hour, plan_id, n) "
                + "VALUES ($1, date_trunc('hour', now()), $2, 1) ON CONFLICT (tenant_id, hour, plan_id) DO UPDATE SET n = erase_tally_tenant.n + 1")
                .execute(Tuple.of(tenant, plan)).replaceWithVoid());
    }

    /** Erases already in the window: {@code machines} in all, {@code perTenant} by tenant id; {@code fleet}: machines per tenant. */
    public record EraseWindow(int machines, Map<String, Integer> perTenant, Map<String, Integer> fleet) {

        public static final EraseWindow NONE = new EraseWindow(0, Map.of(), Map.of());

        /** The blast-radius facts of one machine of {@code tenant} decided in a batch with these counts. */
        public Facts.BulkFacts with(int batchMachines, String tenant, int batchTenantMachines) {
            if (tenant == null) {
                return new Facts.BulkFacts(machines + batchMachines, 1, 1);
            }
            return new Facts.BulkFacts(machines + batchMachines, perTenant.getOrDefault(tenant, 0) + batchTenantMachines,
                    fleet.getOrDefault(tenant, batchTenantMachines));
        }
    }

    private static final String NO_TENANT = "";

    private static Map<String, Integer> countsByTenant(RowSet<Row> rows) {
        Map<String, Integer> out = new HashMap<>();
        rows.forEach(r -> out.put(r.getUUID(0) == null ? NO_TENANT : r.getUUID(0).toString(), r.getLong(1).intValue()));
        return out;
    }

    /**
     * The facts of one machine for one action; for an erase with the erases already started in the
     * bulk window, so a single erase counts toward the blast radius like a bulk one.
     */
    public Uni<Facts> forAction(SqlClient db, UUID machineId, io.metalgate.gate.Action action, String requester, java.time.Instant now) {
        return forAction(db, machineId, action, requester, now, Optional.empty());
    }

    /**
     * The machines of a bulk plan being executed and how many of them each tenant has: the blast radius of
     * each machine is counted again when it is decided, with the plan as its batch.
     */
    public record PlanBatch(UUID planId, List<UUID> ids, Map<String, Integer> perTenant) {
    }

    /**
     * The facts for one action of one machine, alone or as part of {@code batch}. For an erase, the erases
     * already started in the window are counted now, leaving out the batch itself (which counts whole).
     */
    public Uni<Facts> forAction(SqlClient db, UUID machineId, io.metalgate.gate.Action action, String requester, java.time.Instant now,
            Optional<PlanBatch> batch) {
        return forMachine(db, machineId, requester).chain(f -> {
            if (action != io.metalgate.gate.Action.ERASE) {
                return Uni.createFrom().item(batch.isEmpty() ? f : new Facts(f.machine(), f.lease(), f.holds(), f.notices(), f.request(),
                        f.approvals(), new Facts.BulkFacts(batch.get().ids().size(), 1, 1)));
            }
            Set<UUID> tenant = f.lease().map(l -> Set.of(UUID.fromString(l.tenantId()))).orElse(Set.of());
            String tenantId = f.lease().map(Facts.LeaseFacts::tenantId).orElse(null);
            UUID excluding = batch.map(PlanBatch::planId).orElse(null);
            int size = batch.map(b -> b.ids().size()).orElse(1);
            int ofTenant = batch.map(b -> b.perTenant().getOrDefault(tenantId, 1)).orElse(1);
            return eraseWindow(db, tenant, excluding, now).map(w -> new Facts(f.machine(), f.lease(), f.holds(), f.notices(),
                    f.request(), f.approvals(), w.with(size, tenantId, ofTenant)));
        });
    }

    public Uni<Facts> forMachine(SqlClient db, UUID machineId, String requester) {
        return forMachines(db, List.of(machineId), requester).map(all -> {
            if (all.isEmpty()) {
                throw ApiException.notFound("machine", machineId);
            }
            return all.get(0);
        });
    }

    /**
     * Facts of many machines in four set-based queries (machines with their leases, holds by tenant or
     * lease, holds by machine, notices with attempts), in the order of {@code machineIds}; unknown ids are
     * left out.
     */
    public Uni<List<Facts>> forMachines(List<UUID> machineIds, String requester) {
        return forMachines(pool, machineIds, requester);
    }

    /**
     * The facts follow the data, not the lease row: the lease and tenant are those whose data the machine
     * holds ({@code machine.data_lease_id}, set when it joined the lease and cleared only by a verified
     * erase), so removing it from its lease, or the lease from it, changes nothing the gate reads.
     */
    public Uni<List<Facts>> forMachines(SqlClient db, List<UUID> machineIds, String requester) {
        UUID[] ids = machineIds.toArray(new UUID[0]);
        return db.preparedQuery("SELECT m.id, m.lifecycle_state, m.leased_since_erase, m.inventory, l.id AS lease_id, "
                + "m.data_tenant_id AS tenant_id, l.state AS lease_state, l.terminated_at, l.created_at AS lease_created, "
                + "c.body AS cert_body, c.signature AS cert_signature, c.key_fingerprint AS cert_key, c.disk_serials AS cert_disks "
                + "FROM unnest($1::uuid[]) AS sel(id) JOIN machine m ON m.id = sel.id LEFT JOIN lease l ON l.id = m.data_lease_id "
                // the machine's latest erase certificate (the one its last verified erase issued)
                + "LEFT JOIN LATERAL (SELECT * FROM erase_certificate ec WHERE ec.machine_id = m.id ORDER BY ec.issued_at DESC LIMIT 1) c ON true").execute(Tuple.of(ids)).chain(rows -> {
                    Map<UUID, Row> byId = new HashMap<>();
                    Set<UUID> tenants = new LinkedHashSet<>();
                    for (Row r : rows) {
                        byId.put(r.getUUID("id"), r);
                        if (r.getUUID("tenant_id") != null) {
                            tenants.add(r.getUUID("tenant_id"));
                        }
                    }
                    UUID[] tenantIds = tenants.toArray(new UUID[0]);
                    Uni<RowSet<Row>> scopedHolds = db.preparedQuery("SELECT id, kind, placed_at, scope, tenant_id, lease_id FROM hold "
                            + "WHERE released_at IS NULL AND scope <> 'MACHINES' AND tenant_id = ANY($1) ORDER BY placed_at")
                            .execute(Tuple.of(tenantIds));
                    Uni<RowSet<Row>> machineHolds = db.preparedQuery("SELECT h.id, h.kind, h.placed_at, hm.machine_id FROM hold h "
                            + "JOIN hold_machine hm ON hm.hold_id = h.id JOIN unnest($1::uuid[]) AS sel(id) ON sel.id = hm.machine_id "
                            + "WHERE h.released_at IS NULL "
                            + "ORDER BY h.placed_at").execute(Tuple.of(ids));
                    Uni<List<NoticeService.NoticeView>> noticeViews = tenants.isEmpty() ? Uni.createFrom().item(List.of())
                            : notices.forTenants(db, tenantIds);
                    return Uni.combine().all().unis(scopedHolds, machineHolds, noticeViews).asTuple().map(t -> {
                        Map<UUID, List<Row>> holdsByTenant = new HashMap<>();
                        t.getItem1().forEach(h -> holdsByTenant.computeIfAbsent(h.getUUID("tenant_id"), k -> new ArrayList<>()).add(h));
                        Map<UUID, List<Facts.HoldFact>> holdsByMachine = new HashMap<>();
                        t.getItem2().forEach(h -> holdsByMachine.computeIfAbsent(h.getUUID("machine_id"), k -> new ArrayList<>())
                                .add(new Facts.HoldFact(h.getUUID("id").toString(), h.getString("kind"), h.getOffsetDateTime("placed_at").toInstant())));
                        Map<UUID, List<NoticeService.NoticeView>> noticesByTenant = new HashMap<>();
                        t.getItem3().forEach(n -> noticesByTenant.computeIfAbsent(n.tenantId(), k -> new ArrayList<>()).add(n));
                        List<Facts> out = new ArrayList<>(machineIds.size());
                        Shared shared = new Shared(requester);
                        for (UUID id : machineIds) {
                            Row m = byId.get(id);
                            if (m != null) {
                                out.add(facts(id, m, shared, holdsByTenant, holdsByMachine, noticesByTenant));
                            }
                        }
                        return out;
                    });
                });
    }

    /**
     * Facts that machines of one lease have in common (the lease, its holds, its notices), built once
     * per lease: a plan over 60,000 machines of 2,000 leases then holds 2,000 copies, not 60,000.
     */
    private static final class Shared {
        final Facts.RequestFacts request;
        final Map<UUID, Facts.LeaseFacts> leases = new HashMap<>();
        final Map<UUID, List<Facts.HoldFact>> leaseHolds = new HashMap<>();
        final Map<UUID, List<Facts.NoticeFact>> leaseNotices = new HashMap<>();

        Shared(String requester) {
            request = new Facts.RequestFacts(requester, Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    private Facts facts(UUID machineId, Row m, Shared shared, Map<UUID, List<Row>> holdsByTenant,
            Map<UUID, List<Facts.HoldFact>> holdsByMachine, Map<UUID, List<NoticeService.NoticeView>> noticesByTenant) {
        UUID leaseId = m.getUUID("lease_id");
        UUID tenantId = m.getUUID("tenant_id");
        Optional<Facts.LeaseFacts> lease = leaseId == null ? Optional.empty()
                : Optional.of(shared.leases.computeIfAbsent(leaseId, k -> new Facts.LeaseFacts(leaseId.toString(), tenantId.toString(),
                        Facts.LeaseState.valueOf(m.getString("lease_state")),
                        Optional.ofNullable(m.getOffsetDateTime("terminated_at")).map(OffsetDateTime::toInstant))));
        List<Facts.HoldFact> leaseHolds = leaseId == null ? List.of() : shared.leaseHolds.computeIfAbsent(leaseId, k -> {
            List<Facts.HoldFact> holds = new ArrayList<>();
            for (Row h : holdsByTenant.getOrDefault(tenantId, List.of())) {
                if (h.getString("scope").equals("TENANT") || leaseId.equals(h.getUUID("lease_id"))) {
                    holds.add(new Facts.HoldFact(h.getUUID("id").toString(), h.getString("kind"), h.getOffsetDateTime("placed_at").toInstant()));
                }
            }
            return List.copyOf(holds);
        });
        List<Facts.HoldFact> machineHolds = holdsByMachine.getOrDefault(machineId, List.of());
        List<Facts.HoldFact> holds = machineHolds.isEmpty() ? leaseHolds : concat(leaseHolds, machineHolds);
        List<Facts.NoticeFact> noticeFacts = leaseId == null ? List.of() : shared.leaseNotices.computeIfAbsent(leaseId,
                k -> noticesByTenant.getOrDefault(tenantId, List.of()).stream()
                        // a notice proves something about this lease only if it is this lease's, or the tenant's
                        // made after this lease existed (an old tenant-wide notice says nothing of a later lease)
                        .filter(n -> n.leaseId() == null ? !n.createdAt().isBefore(m.getOffsetDateTime("lease_created").toInstant())
                                : n.leaseId().equals(leaseId))
                        .map(n -> new Facts.NoticeFact(n.id().toString(), n.kind().name(), n.attempts().stream()
                                // a bounce read back and the attempt it bounces are one attempt (the bounce, not proof)
                                .filter(a -> n.attempts().stream().noneMatch(b -> a.id().equals(b.supersedes())))
                                // a person's word alone is a claim, not proof (confirmed by a second person, it counts)
                                .map(a -> new Facts.AttemptFact(a.channel().name(), a.at(), Facts.Outcome.valueOf(a.outcome().name()),
                                        a.counts())).toList()))
                        .toList());
        Facts.MachineFacts machine = new Facts.MachineFacts(machineId.toString(), Facts.MachineState.valueOf(m.getString("lifecycle_state")),
                m.getBoolean("leased_since_erase"), diskSerials(m.getString("inventory")), certificate(m));
        return new Facts(machine, lease, holds, noticeFacts, shared.request, List.of(), Facts.BulkFacts.single());
    }

    /**
     * The machine's latest erase certificate as a gate fact: the disks it covers, and whether its signature verifies
     * with this appliance's audit key (a certificate signed by another key, or altered in the database, is not valid).
     */
    private Optional<Facts.CertificateFact> certificate(Row m) {
        String body = m.getString("cert_body");
        if (body == null) {
            return Optional.empty();
        }
        boolean valid = m.getString("cert_key").equals(signingKey.fingerprint())
                && io.metalgate.evidence.SigningKeys.verify(signingKey.active().publicKey(), body.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        m.getString("cert_signature"));
        return Optional.of(new Facts.CertificateFact(Set.of(m.getArrayOfStrings("cert_disks")), valid));
    }

    /** The serial numbers of the inventory's disks (the REASSIGN gate compares an erase certificate with them). */
    static Set<String> diskSerials(String inventoryJson) {
        if (inventoryJson == null) {
            return Set.of();
        }
        Set<String> out = new java.util.TreeSet<>();
        io.vertx.core.json.JsonObject inv = new io.vertx.core.json.JsonObject(inventoryJson);
        io.vertx.core.json.JsonArray disks = inv.getJsonArray("disks");
        if (disks != null) {
            for (int i = 0; i < disks.size(); i++) {
                String serial = disks.getJsonObject(i).getString("serialNumber");
                if (serial != null && !serial.isBlank()) {
                    out.add(serial);
                } else {
                    // no certificate names it, so none covers the machine (a disk without a serial is not a disk less)
                    out.add("(disk " + disks.getJsonObject(i).getString("id", String.valueOf(i)) + " without a serial number)");
                }
            }
        }
        return Set.copyOf(out);
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a.size() + b.size());
        out.addAll(a);
        out.addAll(b);
        return out;
    }
}
