package io.metalgate.bench;

import io.metalgate.testing.Api;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What deciding under each machine's lock costs (issue 10): single erases per second through the API (16
 * operators at once, each with an approved request), and a bulk erase of 60,000 machines of 2,000 tenants
 * planned, approved by two people and executed through the API. Only the HTTP API and SQL seeding are used,
 * so the same file runs against the code before the per-machine lock (the seed fills the columns of
 * whichever schema it finds). {@code -Dbench.tenants=N} (30 machines each), {@code -Dbench.singles=N}.
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class ActionBench {

    static final int TENANTS = Integer.getInteger("bench.tenants", 2000);
    static final int SINGLES = Integer.getInteger("bench.singles", 2000);

    @Test
    void singleErasesAndA60000MachineBulkErase() throws Exception {
        // single erases: one machine per tenant, each with a request approved by two approvers
        List<UUID> singles = seed("bench-s", SINGLES, 1);
        List<UUID> requests = approveRequests(singles);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        long t0 = System.nanoTime();
        List<Future<Integer>> done = new ArrayList<>();
        for (int i = 0; i < singles.size(); i++) {
            UUID m = singles.get(i);
            UUID r = requests.get(i);
            done.add(pool.submit(() -> Api.operator().body(Map.of("requestId", r.toString())).post("/api/machines/" + m + "/actions/erase")
                    .statusCode()));
        }
        int ok = 0;
        for (Future<Integer> f : done) {
            ok += f.get() == 200 ? 1 : 0;
        }
        double singleSeconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();

        // bulk: plan (summary), two approvals, execute
        List<UUID> fleet = seed("bench-b", TENANTS, 30);
        var body = Map.of("selector", Map.of("query", Map.of("name", "bench-b-m-", "state", "RETAINED")), "reason", "benchmark");
        long p0 = System.nanoTime();
        String plan = Api.operator().body(body).queryParam("summary", true).post("/api/bulk/erase").then().statusCode(201).extract().path("id");
        double planSeconds = (System.nanoTime() - p0) / 1e9;
        Api.as("approver").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then().statusCode(200);
        Api.as("approver", "bench-approver-2").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then().statusCode(200);
        long e0 = System.nanoTime();
        var executed = Api.operator().queryParam("summary", true).post("/api/bulk/plans/" + plan + "/execute").then().extract();
        // it runs in the background: wait for its end
        while (true) {
            String status = Api.operator().queryParam("summary", true).get("/api/bulk/plans/" + plan).then().extract().path("status");
            if (status.equals("EXECUTED") || status.equals("PARTIAL")) {
                break;
            }
            Thread.sleep(500);
        }
        double executeSeconds = (System.nanoTime() - e0) / 1e9;
        String erasing = PostgresTestResource.sqlValue("SELECT count(*)::text FROM machine WHERE name LIKE 'bench-b-m-%' AND "
                + "lifecycle_state = ? ", "ERASING");

        String line = String.format("%s actions singles=%d allowed=%d seconds=%.1f per-second=%.0f | bulk machines=%d plan-s=%.1f "
                + "execute-status=%d execute-s=%.1f erasing=%s per-second=%.0f%n", Instant.now(), singles.size(), ok, singleSeconds,
                ok / singleSeconds, fleet.size(), planSeconds, executed.statusCode(), executeSeconds, erasing,
                Integer.parseInt(erasing) / executeSeconds);
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Approval requests for the machines, each approved by two approvers (SQL: the API would take minutes for thousands). */
    private static List<UUID> approveRequests(List<UUID> machines) throws Exception {
        List<UUID> ids = new ArrayList<>();
        try (Connection c = PostgresTestResource.postgres().ownerConnection();
                var req = c.prepareStatement("INSERT INTO action_request (id, action, machine_id, requested_by, reason, requested_at, expires_at, "
                        + "status) VALUES (?, 'ERASE', ?, 'test-operator', 'bench', now(), now() + interval '1 day', 'APPROVED')");
                // two approvers: more than ten erases within 24 h need a second one (the blast-radius rule)
                var ap = c.prepareStatement("INSERT INTO approval (request_id, approver, roles, decision, at) VALUES (?, 'bench-approver', "
                        + "'approver,viewer', 'APPROVE', now()), (?, 'bench-approver-2', 'approver,viewer', 'APPROVE', now())")) {
            for (UUID m : machines) {
                UUID id = UUID.randomUUID();
                req.setObject(1, id);
                req.setObject(2, m);
                req.addBatch();
                ap.setObject(1, id);
                ap.setObject(2, id);
                ap.addBatch();
                ids.add(id);
            }
            req.executeBatch();
            ap.executeBatch();
        }
        return ids;
    }

    /**
     * {@code tenants} tenants, each with one lease terminated 40 days ago of {@code perTenant} RETAINED machines
     * and a termination notice delivered 20 days ago. Fills the custody columns where the schema has them.
     */
    private static List<UUID> seed(String prefix, int tenants, int perTenant) throws Exception {
        try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
            boolean custody;
            try (var rs = st.executeQuery("SELECT count(*) FROM information_schema.columns WHERE table_name = 'machine' "
                    + "AND column_name = 'bmc_identity'")) {
                rs.next();
                custody = rs.getInt(1) > 0;
            }
            st.execute("INSERT INTO tenant (id, name, created_at, updated_at) SELECT gen_random_uuid(), '" + prefix + "-t-' || g, now(), now() "
                    + "FROM generate_series(1, " + tenants + ") g");
            st.execute("INSERT INTO lease (id, tenant_id, external_ref, state, created_at, updated_at, terminated_at) "
                    + "SELECT gen_random_uuid(), id, '" + prefix + "-l-' || name, 'TERMINATED', now(), now(), now() - interval '40 days' "
                    + "FROM tenant WHERE name LIKE '" + prefix + "-t-%'");
            st.execute("INSERT INTO machine (id, name, bmc_protocol, bmc_host, bmc_port, bmc_username, bmc_secret, lifecycle_state, "
                    + "created_at, updated_at" + (custody ? ", bmc_identity" : "") + ") SELECT gen_random_uuid(), '" + prefix
                    + "-m-' || lpad(g::text, 5, '0'), 'IPMI', '" + prefix + "-' || g, 623, 'ADMIN', 'v1:none', 'RETAINED', now(), now()"
                    + (custody ? ", '" + prefix + "-' || g || ':623'" : "") + " FROM generate_series(1, " + tenants * perTenant + ") g");
            st.execute("INSERT INTO lease_machine (lease_id, machine_id) SELECT l.id, m.id FROM machine m "
                    + "JOIN lease l ON l.external_ref = '" + prefix + "-l-" + prefix + "-t-' || ((substr(m.name, length('" + prefix
                    + "-m-') + 1)::int - 1) / " + perTenant + " + 1) WHERE m.name LIKE '" + prefix + "-m-%'");
            if (custody) {
                st.execute("UPDATE machine m SET data_tenant_id = l.tenant_id, data_lease_id = l.id, leased_since_erase = true "
                        + "FROM lease_machine lm JOIN lease l ON l.id = lm.lease_id WHERE lm.machine_id = m.id AND m.name LIKE '" + prefix + "-m-%'");
                st.execute("INSERT INTO machine_custody (machine_id, lease_id, tenant_id, since) SELECT lm.machine_id, l.id, l.tenant_id, "
                        + "now() - interval '400 days' FROM lease_machine lm JOIN lease l ON l.id = lm.lease_id WHERE l.external_ref LIKE '"
                        + prefix + "-l-%'");
            }
            st.execute("INSERT INTO notice (id, kind, tenant_id, lease_id, created_by, created_at) SELECT gen_random_uuid(), "
                    + "'TERMINATION', l.tenant_id, l.id, '" + prefix + "', now() - interval '30 days' FROM lease l WHERE l.external_ref LIKE '"
                    + prefix + "-l-%'");
            st.execute("INSERT INTO notice_attempt (id, notice_id, channel, outcome, proof, at, recorded_by) SELECT gen_random_uuid(), n.id, "
                    + "'EMAIL', 'DELIVERED', '250 OK', now() - interval '20 days', 'bench' FROM notice n WHERE n.created_by = '" + prefix + "'");
            st.execute("ANALYZE");
            List<UUID> ids = new ArrayList<>();
            try (var rs = st.executeQuery("SELECT id FROM machine WHERE name LIKE '" + prefix + "-m-%' ORDER BY name")) {
                while (rs.next()) {
                    ids.add(rs.getObject(1, UUID.class));
                }
            }
            return ids;
        }
    }
}
