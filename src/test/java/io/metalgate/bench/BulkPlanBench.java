package io.metalgate.bench;

import io.metalgate.conductor.BulkPlans;
import io.metalgate.conductor.GateFacts;
import io.metalgate.gate.Action;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Gate;
import io.metalgate.testing.Api;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A bulk erase plan over 60,000 machines of 2,000 tenants (LeaseWeb's fleet size), facts loaded from
 * PostgreSQL: end to end (select, load facts, decide, store the plan, audit it per tenant, chain the
 * entries), and its parts. Target: < 2 s end to end, < 200 ms for the pure decisions.
 *
 * <p>Also through the API ({@code POST /api/bulk/erase?summary=true}, and once with every decision in the
 * answer). Stage timings: {@code -Dquarkus.log.category."io.metalgate.conductor".level=DEBUG}. Smaller
 * fleets: {@code -Dbench.tenants=N} (30 machines each).
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BulkPlanBench {

    static final int TENANTS = Integer.getInteger("bench.tenants", 2000);

    @Inject
    BulkPlans plans;
    @Inject
    GateFacts gateFacts;

    @Test
    void bulkErasePlanOver60000Machines() throws Throwable {
        List<UUID> ids = seed();
        List<String> endToEnd = new ArrayList<>();
        List<String> load = new ArrayList<>();
        List<String> decide = new ArrayList<>();
        int refused = 0;
        for (int round = 0; round < Integer.getInteger("bench.rounds", 3); round++) {
            long t0 = System.nanoTime();
            BulkPlans.Plan plan = VertxContextSupport.subscribeAndAwait(() -> plans.plan(Action.ERASE,
                    new BulkPlans.Selector(null, null, ids, null), "benchmark", "bench-operator"));
            endToEnd.add(String.format("%.0f", (System.nanoTime() - t0) / 1e6));
            refused = plan.refused();
            long t1 = System.nanoTime();
            List<Facts> facts = VertxContextSupport.subscribeAndAwait(() -> gateFacts.forMachines(ids, "bench-operator"));
            load.add(String.format("%.0f", (System.nanoTime() - t1) / 1e6));
            long t2 = System.nanoTime();
            Instant now = Instant.now();
            for (Facts f : facts) {
                Gate.decide(Action.ERASE, f, gateFacts.policy(), now);
            }
            decide.add(String.format("%.0f", (System.nanoTime() - t2) / 1e6));
        }
        // through the API, as an operator's tool calls it: JSON in, plan stored and audited, summary out
        List<String> http = new ArrayList<>();
        List<String> httpFull = new ArrayList<>();
        // selected by a query, as an operator would (60,000 ids in the request body cost another 1-2 s of JSON and validation)
        var body = java.util.Map.of("selector", java.util.Map.of("query", java.util.Map.of("name", "bench-m-", "state", "RETAINED")),
                "reason", "benchmark");
        for (int round = 0; round < Integer.getInteger("bench.rounds", 3); round++) {
            long t0 = System.nanoTime();
            Api.operator().body(body).queryParam("summary", true).post("/api/bulk/erase").then().statusCode(201);
            http.add(String.format("%.0f", (System.nanoTime() - t0) / 1e6));
        }
        long t0 = System.nanoTime();
        int bytes = Api.operator().body(body).post("/api/bulk/erase").then().statusCode(201).extract().asByteArray().length;
        httpFull.add(String.format("%.0f ms, %d MB", (System.nanoTime() - t0) / 1e6, bytes >> 20));
        String line = String.format("%s bulk-plan machines=%d refused=%d end-to-end-ms=%s load-facts-ms=%s decide-ms=%s "
                + "http-summary-ms=%s http-with-every-decision=%s%n", Instant.now(), ids.size(), refused, endToEnd, load, decide, http, httpFull);
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** 2,000 tenants, each with one terminated lease of 30 retained machines, a delivered notice; 5 % under a hold. */
    private static List<UUID> seed() throws Exception {
        try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
            st.execute("INSERT INTO tenant (id, name, created_at, updated_at) SELECT gen_random_uuid(), 'bench-t-' || g, now(), now() "
                    + "FROM generate_series(1, " + TENANTS + ") g");
            st.execute("INSERT INTO lease (id, tenant_id, external_ref, state, created_at, updated_at, terminated_at) "
                    + "SELECT gen_random_uuid(), id, 'bench-l-' || name, 'TERMINATED', now(), now(), now() - interval '40 days' "
                    + "FROM tenant WHERE name LIKE 'bench-t-%'");
            st.execute("INSERT INTO machine (id, name, bmc_protocol, bmc_host, bmc_port, bmc_username, bmc_secret, lifecycle_state, "
                    + "created_at, updated_at, bmc_identity) SELECT gen_random_uuid(), 'bench-m-' || lpad(g::text, 5, '0'), 'IPMI', 'bench-' || g, "
                    + "623, 'ADMIN', 'v1:none', 'RETAINED', now(), now(), 'bench-' || g || ':623' FROM generate_series(1, " + TENANTS * 30 + ") g");
            st.execute("INSERT INTO lease_machine (lease_id, machine_id) SELECT l.id, m.id FROM machine m "
                    + "JOIN lease l ON l.external_ref = 'bench-l-bench-t-' || ((substr(m.name, 9)::int - 1) / 30 + 1) "
                    + "WHERE m.name LIKE 'bench-m-%'");
            // whose data each machine holds (set when it joined its lease)
            st.execute("UPDATE machine m SET data_tenant_id = l.tenant_id, data_lease_id = l.id, leased_since_erase = true "
                    + "FROM lease_machine lm JOIN lease l ON l.id = lm.lease_id WHERE lm.machine_id = m.id AND m.name LIKE 'bench-m-%'");
            // each machine's way to RETAINED, as the conductor records it (the fleet's share reads when it was deployed)
            st.execute("INSERT INTO state_transition (id, subject_type, subject_id, from_state, event, to_state, actor, at) "
                    + "SELECT gen_random_uuid(), 'MACHINE', m.id, s.f, s.e, s.t, 'bench', now() - (s.d || ' days')::interval FROM machine m, "
                    + "(VALUES ('ENROLLED', 'VERIFY', 'VERIFYING', 90), ('VERIFYING', 'VERIFIED', 'MANAGEABLE', 90), "
                    + "('MANAGEABLE', 'INSPECT', 'INSPECTING', 89), ('INSPECTING', 'INSPECTED', 'AVAILABLE', 89), "
                    + "('AVAILABLE', 'DEPLOY', 'DEPLOYING', 88), ('DEPLOYING', 'DEPLOYED', 'ACTIVE', 88), "
                    + "('ACTIVE', 'RETAIN', 'RETAINED', 40)) AS s(f, e, t, d) WHERE m.name LIKE 'bench-m-%'");
            st.execute("INSERT INTO notice (id, kind, tenant_id, lease_id, created_by, created_at) SELECT gen_random_uuid(), "
                    + "'TERMINATION', l.tenant_id, l.id, 'bench', now() - interval '30 days' FROM lease l WHERE l.external_ref LIKE 'bench-l-%'");
            st.execute("INSERT INTO notice_attempt (id, notice_id, channel, outcome, proof, at, recorded_by) SELECT gen_random_uuid(), n.id, "
                    + "'EMAIL', 'DELIVERED', '250 OK', now() - interval '20 days', 'bench' FROM notice n WHERE n.created_by = 'bench'");
            st.execute("INSERT INTO hold (id, kind, scope, tenant_id, reason, placed_by, placed_at) SELECT gen_random_uuid(), "
                    + "'PRESERVATION_REQUEST', 'TENANT', id, 'bench', 'bench', now() FROM tenant WHERE name LIKE 'bench-t-%' "
                    + "AND substr(name, 9)::int % 20 = 0");
            st.execute("ANALYZE");
            List<UUID> ids = new ArrayList<>();
            try (var rs = st.executeQuery("SELECT id FROM machine WHERE name LIKE 'bench-m-%' ORDER BY name")) {
                while (rs.next()) {
                    ids.add(rs.getObject(1, UUID.class));
                }
            }
            return ids;
        }
    }
}
