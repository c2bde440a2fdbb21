package io.metalgate.console;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * What the console's pages read that no API endpoint answers in one query: the fleet's counts, the machines table
 * joined with leases and tenants, notices across tenants, operations in progress. Read-only SQL on the reactive
 * client (one round trip per question, no entity loading): the machines page stays fast at 60,000 machines. Every
 * change the console makes goes through the API's own resources, never through here.
 */
@ApplicationScoped
public class ConsoleQueries {

    /** Counts for the dashboard: each map is ordered by the count's key. */
    public record Fleet(long machines, Map<String, Long> byLifecycle, Map<String, Long> byPower, Map<String, Long> byLease,
            long bmcUnreachable, long powerDrift, long certificateChanged, long eraseFailed, long deadLetters, long activeHolds,
            long pendingApprovals, long erasing, long auditHead) {
    }

    /** One row of the machines table. */
    public record MachineRow(UUID id, String name, String rack, String state, String power, boolean drift, String powerError,
            String protocol, String bmcHost, String tenant, UUID tenantId, String leaseState, boolean maintenance) {
    }

    /** The machines table's filters; null or blank means any. */
    public record MachineFilter(String q, UUID tenantId, String state, String rack, String power) {
    }

    public record MachinePage(List<MachineRow> rows, int page, int size, long total) {
        public long pages() {
            return Math.max(1, (total + size - 1) / size);
        }

        public boolean hasNext() {
            return (long) (page + 1) * size < total;
        }

        public int previousPage() {
            return page - 1;
        }

        public int nextPage() {
            return page + 1;
        }

        public boolean hasPrevious() {
            return page > 0;
        }

        public long first() {
            return total == 0 ? 0 : (long) page * size + 1;
        }

        public long last() {
            return Math.min(total, (long) (page + 1) * size);
        }
    }

    public record TenantRow(UUID id, String name, String contactEmail, long leases, long machines, long activeHolds, long notices) {
    }

    public record Transition(String from, String event, String to, String actor, String reason, Instant at) {
    }

    public record NoticeRow(UUID id, String kind, String tenant, UUID tenantId, Instant deadline, Instant createdAt, String createdBy,
            String attempts, boolean proven, boolean bounced) {
    }

    public record EraseRow(UUID machineId, String machine, String tenant, String state, int percent, String phase, Instant lastHeard) {
    }

    public record PlanRow(UUID id, String action, String requestedBy, String reason, Instant createdAt, String status, int machines) {
    }

    public record Choice(String value, String label) {
    }

    @Inject
    Pool pool;

    public Uni<Fleet> fleet() {
        String sql = "SELECT 'lc' AS k, lifecycle_state AS v, count(*) AS n FROM machine GROUP BY lifecycle_state "
                + "UNION ALL SELECT 'pw', COALESCE(power_state, 'UNKNOWN'), count(*) FROM machine GROUP BY power_state "
                + "UNION ALL SELECT 'ls', COALESCE(l.state, 'UNLEASED'), count(*) FROM machine m LEFT JOIN lease_machine lm ON lm.machine_id = m.id "
                + "LEFT JOIN lease l ON l.id = lm.lease_id GROUP BY l.state "
                + "UNION ALL SELECT 'x', 'unreachable', count(*) FROM machine WHERE power_error IS NOT NULL "
                + "UNION ALL SELECT 'x', 'drift', count(*) FROM machine WHERE power_drift "
                + "UNION ALL SELECT 'x', 'certificate', count(*) FROM machine WHERE power_error LIKE '%certificate%' "
                + "UNION ALL SELECT 'x', 'dead', count(*) FROM dead_letter WHERE status = 'OPEN' "
                + "UNION ALL SELECT 'x', 'holds', count(*) FROM hold WHERE released_at IS NULL "
                + "UNION ALL SELECT 'x', 'approvals', count(*) FROM action_request WHERE status = 'PENDING' AND expires_at > now() "
                + "UNION ALL SELECT 'x', 'head', COALESCE((SELECT seq FROM audit_head WHERE id = 1), 0)";
        return pool.query(sql).execute().map(rows -> {
            Map<String, Long> lc = new java.util.TreeMap<>();
            Map<String, Long> pw = new java.util.TreeMap<>();
            Map<String, Long> ls = new java.util.TreeMap<>();
            Map<String, Long> x = new LinkedHashMap<>();
            for (Row r : rows) {
                String k = r.getString("k");
                Map<String, Long> into = switch (k) {
                    case "lc" -> lc;
                    case "pw" -> pw;
                    case "ls" -> ls;
                    default -> x;
                };
                into.put(r.getString("v"), r.getLong("n"));
            }
            long total = lc.values().stream().mapToLong(Long::longValue).sum();
            return new Fleet(total, lc, pw, ls, x.getOrDefault("unreachable", 0L), x.getOrDefault("drift", 0L),
                    x.getOrDefault("certificate", 0L), lc.getOrDefault("ERASE_FAILED", 0L), x.getOrDefault("dead", 0L),
                    x.getOrDefault("holds", 0L), x.getOrDefault("approvals", 0L), lc.getOrDefault("ERASING", 0L), x.getOrDefault("head", 0L));
        });
    }

    /** The audit chain's length (its head's sequence number). */
    public Uni<Long> auditHead() {
        return pool.query("SELECT COALESCE((SELECT seq FROM audit_head WHERE id = 1), 0)").execute().map(rows -> rows.iterator().next().getLong(0));
    }

    private static final String MACHINE_FROM = " FROM machine m LEFT JOIN lease_machine lm ON lm.machine_id = m.id "
            + "LEFT JOIN lease l ON l.id = lm.lease_id LEFT JOIN tenant t ON t.id = COALESCE(l.tenant_id, m.data_tenant_id) ";

    private record Where(String sql, List<Object> params) {
    }

    /** The table's filters as SQL over {@link #MACHINE_FROM}'s aliases, with their parameters ($1 …). */
    private static Where where(MachineFilter f) {
        List<String> where = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        if (f.q() != null) {
            params.add("%" + f.q().toLowerCase(Locale.ROOT).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
            where.add("(lower(m.name) LIKE $" + params.size() + " OR lower(m.bmc_host) LIKE $" + params.size() + ")");
        }
        if (f.tenantId() != null) {
            params.add(f.tenantId());
            where.add("t.id = $" + params.size());
        }
        if (f.state() != null) {
            params.add(f.state());
            where.add("m.lifecycle_state = $" + params.size());
        }
        if (f.rack() != null) {
            params.add(f.rack());
            where.add("m.rack = $" + params.size());
        }
        if (f.power() != null) {
            if (f.power().equals("UNKNOWN")) {
                where.add("m.power_state IS NULL");
            } else {
                params.add(f.power());
                where.add("m.power_state = $" + params.size());
            }
        }
        return new Where(where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where), params);
    }

    public Uni<MachinePage> machines(MachineFilter f, int page, int size) {
        Where w = where(f);
        List<Object> pageParams = new ArrayList<>(w.params());
        pageParams.add(size);
        pageParams.add((long) page * size);
        String rowsSql = "SELECT m.id, m.name, m.rack, m.lifecycle_state, m.power_state, m.power_drift, m.power_error, m.bmc_protocol, "
                + "m.bmc_host, m.maintenance, t.name AS tenant, t.id AS tenant_id, l.state AS lease_state" + MACHINE_FROM + w.sql()
                + " ORDER BY m.name LIMIT $" + (w.params().size() + 1) + " OFFSET $" + (w.params().size() + 2);
        // the count needs the joins only when a filter reads them
        String countSql = "SELECT count(*)" + (f.tenantId() == null ? " FROM machine m" : MACHINE_FROM) + w.sql();
        return pool.preparedQuery(rowsSql).execute(Tuple.from(pageParams)).chain(rows -> pool.preparedQuery(countSql).execute(Tuple.from(w.params()))
                .map(count -> new MachinePage(machineRows(rows), page, size, count.iterator().next().getLong(0))));
    }

    /**
     * Every machine the table shows for these filters (at most {@code limit}): what "every machine matching the filter"
     * hands to a bulk plan, so that the plan is made of exactly the machines the operator saw counted.
     */
    public Uni<List<UUID>> machineIds(MachineFilter f, int limit) {
        Where w = where(f);
        List<Object> params = new ArrayList<>(w.params());
        params.add(limit);
        return pool.preparedQuery("SELECT m.id" + MACHINE_FROM + w.sql() + " ORDER BY m.name LIMIT $" + params.size())
                .execute(Tuple.from(params)).map(rows -> list(rows, r -> r.getUUID("id")));
    }

    private static List<MachineRow> machineRows(RowSet<Row> rows) {
        List<MachineRow> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            out.add(new MachineRow(r.getUUID("id"), r.getString("name"), r.getString("rack"), r.getString("lifecycle_state"),
                    r.getString("power_state"), Boolean.TRUE.equals(r.getBoolean("power_drift")), r.getString("power_error"),
                    r.getString("bmc_protocol"), r.getString("bmc_host"), r.getString("tenant"), r.getUUID("tenant_id"),
                    r.getString("lease_state"), Boolean.TRUE.equals(r.getBoolean("maintenance"))));
        }
        return out;
    }

    /** One machine's row (tenant and lease state), for its page. */
    public Uni<MachineRow> machine(UUID id) {
        return pool.preparedQuery("SELECT m.id, m.name, m.rack, m.lifecycle_state, m.power_state, m.power_drift, m.power_error, "
                + "m.bmc_protocol, m.bmc_host, m.maintenance, t.name AS tenant, t.id AS tenant_id, l.state AS lease_state" + MACHINE_FROM
                + " WHERE m.id = $1").execute(Tuple.of(id)).map(rows -> machineRows(rows).stream().findFirst().orElse(null));
    }

    public Uni<List<Choice>> tenantChoices() {
        return pool.query("SELECT id, name FROM tenant ORDER BY name LIMIT 1000").execute()
                .map(rows -> list(rows, r -> new Choice(r.getUUID("id").toString(), r.getString("name"))));
    }

    public Uni<List<String>> racks() {
        return pool.query("SELECT DISTINCT rack FROM machine WHERE rack IS NOT NULL ORDER BY rack LIMIT 1000").execute()
                .map(rows -> list(rows, r -> r.getString("rack")));
    }

    public Uni<List<TenantRow>> tenants() {
        return pool.query("SELECT t.id, t.name, t.contact_email, "
                + "(SELECT count(*) FROM lease l WHERE l.tenant_id = t.id) AS leases, "
                + "(SELECT count(*) FROM lease l JOIN lease_machine lm ON lm.lease_id = l.id WHERE l.tenant_id = t.id) AS machines, "
                + "(SELECT count(*) FROM hold h WHERE h.tenant_id = t.id AND h.released_at IS NULL) AS holds, "
                + "(SELECT count(*) FROM notice n WHERE n.tenant_id = t.id) AS notices FROM tenant t ORDER BY t.name LIMIT 1000").execute()
                .map(rows -> list(rows, r -> new TenantRow(r.getUUID("id"), r.getString("name"), r.getString("contact_email"), r.getLong("leases"),
                        r.getLong("machines"), r.getLong("holds"), r.getLong("notices"))));
    }

    public Uni<List<Transition>> timeline(UUID machineId) {
        return pool.preparedQuery("SELECT from_state, event, to_state, actor, reason, at FROM state_transition "
                + "WHERE subject_type = 'MACHINE' AND subject_id = $1 ORDER BY at DESC LIMIT 50").execute(Tuple.of(machineId))
                .map(rows -> list(rows, r -> new Transition(r.getString("from_state"), r.getString("event"), r.getString("to_state"),
                        r.getString("actor"), r.getString("reason"), instant(r, "at"))));
    }

    public Uni<List<NoticeRow>> notices(UUID tenantId) {
        return pool.preparedQuery("SELECT n.id, n.kind, t.name AS tenant, t.id AS tenant_id, n.deadline, n.created_at, n.created_by, "
                + "(SELECT string_agg(a.channel || ' ' || a.outcome, ', ' ORDER BY a.at) FROM notice_attempt a WHERE a.notice_id = n.id) AS attempts, "
                + "EXISTS (SELECT 1 FROM notice_attempt a WHERE a.notice_id = n.id AND a.outcome IN ('DELIVERED', 'ACKNOWLEDGED') "
                + "AND (NOT a.by_person OR EXISTS (SELECT 1 FROM notice_attempt_confirmation c WHERE c.attempt_id = a.id))) AS proven, "
                + "EXISTS (SELECT 1 FROM notice_attempt a WHERE a.notice_id = n.id AND a.outcome = 'BOUNCED') AS bounced "
                + "FROM notice n JOIN tenant t ON t.id = n.tenant_id WHERE ($1::uuid IS NULL OR n.tenant_id = $1) "
                + "ORDER BY n.created_at DESC LIMIT 200").execute(Tuple.of(tenantId))
                .map(rows -> list(rows, r -> new NoticeRow(r.getUUID("id"), r.getString("kind"), r.getString("tenant"), r.getUUID("tenant_id"),
                        instant(r, "deadline"), instant(r, "created_at"), r.getString("created_by"), r.getString("attempts"),
                        Boolean.TRUE.equals(r.getBoolean("proven")), Boolean.TRUE.equals(r.getBoolean("bounced")))));
    }

    public Uni<List<EraseRow>> erasing() {
        return pool.query("SELECT m.id, m.name, m.lifecycle_state, t.name AS tenant, "
                + "COALESCE((SELECT avg(p.percent)::int FROM erase_progress p WHERE p.machine_id = m.id), 0) AS percent, "
                + "(SELECT string_agg(DISTINCT p.phase, ', ') FROM erase_progress p WHERE p.machine_id = m.id) AS phase, "
                + "(SELECT max(p.updated_at) FROM erase_progress p WHERE p.machine_id = m.id) AS heard "
                + "FROM machine m LEFT JOIN tenant t ON t.id = m.data_tenant_id "
                + "WHERE m.lifecycle_state IN ('ERASING', 'ERASE_FAILED') ORDER BY m.lifecycle_state, m.name LIMIT 500").execute()
                .map(rows -> list(rows, r -> new EraseRow(r.getUUID("id"), r.getString("name"), r.getString("tenant"), r.getString("lifecycle_state"),
                        r.getInteger("percent"), r.getString("phase"), instant(r, "heard"))));
    }

    public Uni<List<PlanRow>> plans() {
        return pool.query("SELECT id, action, requested_by, reason, created_at, status, cardinality(machine_ids) AS n FROM bulk_plan "
                + "ORDER BY created_at DESC LIMIT 50").execute()
                .map(rows -> list(rows, r -> new PlanRow(r.getUUID("id"), r.getString("action"), r.getString("requested_by"), r.getString("reason"),
                        instant(r, "created_at"), r.getString("status"), r.getInteger("n"))));
    }

    /** Pending approval requests, newest first: id, action, machine. */
    public Uni<List<UUID>> pendingRequests() {
        return pool.query("SELECT id FROM action_request WHERE status IN ('PENDING', 'APPROVED') AND expires_at > now() "
                + "ORDER BY requested_at DESC LIMIT 200").execute().map(rows -> list(rows, r -> r.getUUID("id")));
    }

    /** Names of machines by id (for lists that carry ids). */
    public Uni<Map<UUID, String>> machineNames(java.util.Collection<UUID> ids) {
        if (ids.isEmpty()) {
            return Uni.createFrom().item(Map.of());
        }
        return pool.preparedQuery("SELECT id, name FROM machine WHERE id = ANY($1)").execute(Tuple.of(ids.toArray(UUID[]::new)))
                .map(rows -> {
                    Map<UUID, String> out = new LinkedHashMap<>();
                    rows.forEach(r -> out.put(r.getUUID("id"), r.getString("name")));
                    return out;
                });
    }

    public Uni<Map<UUID, String>> tenantNames() {
        return pool.query("SELECT id, name FROM tenant").execute().map(rows -> {
            Map<UUID, String> out = new LinkedHashMap<>();
            rows.forEach(r -> out.put(r.getUUID("id"), r.getString("name")));
            return out;
        });
    }

    private static Instant instant(Row r, String column) {
        OffsetDateTime t = r.getOffsetDateTime(column);
        return t == null ? null : t.toInstant();
    }

    private static <T> List<T> list(RowSet<Row> rows, java.util.function.Function<Row, T> f) {
        List<T> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            out.add(f.apply(r));
        }
        return out;
    }
}
