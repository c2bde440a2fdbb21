package io.metalgate.bench;

import static io.restassured.RestAssured.given;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The console's machines page over 60,000 machines (issue 15, point 7: first page < 300 ms server time). 2,000
 * tenants with a lease of 30 machines each, 40 racks, power states mixed; a signed-in browser's request (session
 * cookie) for the first page, a filtered page (tenant, state, rack, power, search), a deep page, the dashboard.
 * Each figure is the request's round trip on loopback (an upper bound of the server's time), median and p95 of
 * {@code -Dbench.requests=N} (30) after 5 warm-up requests.
 * {@code ./mvnw -o test -Dtest=ConsoleMachinesBench -Dgroups=bench -DexcludedGroups=none -Dbench.durable-db=true}
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class ConsoleMachinesBench {

    static final int TENANTS = 2000;

    @Test
    void machinesPageOver60000Machines() throws Exception {
        seed();
        String session = signIn();
        String tenant = PostgresTestResource.sqlValue("SELECT id FROM tenant WHERE name = ?", "cbench-t-777");
        Map<String, String> pages = new LinkedHashMap<>();
        pages.put("first page", "/console/machines");
        pages.put("tenant filter", "/console/machines?tenant=" + tenant);
        pages.put("state + rack + power", "/console/machines?state=ACTIVE&rack=R17&power=ON");
        pages.put("search", "/console/machines?q=m-0421");
        pages.put("page 1000 (offset 49,950)", "/console/machines?page=999");
        pages.put("dashboard", "/console");
        int n = Integer.getInteger("bench.requests", 30);
        StringBuilder line = new StringBuilder(Instant.now() + " console-machines machines=" + TENANTS * 30);
        for (var e : pages.entrySet()) {
            List<Double> ms = new ArrayList<>();
            for (int i = 0; i < n + 5; i++) {
                long t0 = System.nanoTime();
                given().cookie("metalgate_session", session).get(e.getValue()).then().statusCode(200);
                if (i >= 5) {
                    ms.add((System.nanoTime() - t0) / 1e6);
                }
            }
            ms.sort(Double::compare);
            line.append(String.format(" | %s: median %.0f ms, p95 %.0f ms, max %.0f ms", e.getKey(), ms.get(ms.size() / 2),
                    ms.get((int) Math.ceil(ms.size() * 0.95) - 1), ms.get(ms.size() - 1)));
        }
        line.append('\n');
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    static String signIn() {
        Api.as("viewer");
        var form = given().get("/console/login");
        Matcher m = Pattern.compile("name=\"_login\" value=\"([^\"]+)\"").matcher(form.asString());
        m.find();
        return given().redirects().follow(false).cookie("metalgate_login", form.getCookie("metalgate_login")).formParam("_login", m.group(1))
                .formParam("username", "test-viewer").formParam("password", Api.PASSWORD).post("/console/login").then().statusCode(303)
                .extract().cookie("metalgate_session");
    }

    private static void seed() throws Exception {
        try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
            st.execute("INSERT INTO tenant (id, name, created_at, updated_at) SELECT gen_random_uuid(), 'cbench-t-' || g, now(), now() "
                    + "FROM generate_series(1, " + TENANTS + ") g");
            st.execute("INSERT INTO lease (id, tenant_id, external_ref, state, created_at, updated_at) "
                    + "SELECT gen_random_uuid(), id, 'cbench-l-' || name, 'ACTIVE', now(), now() FROM tenant WHERE name LIKE 'cbench-t-%'");
            st.execute("INSERT INTO machine (id, name, rack, bmc_protocol, bmc_host, bmc_port, bmc_username, bmc_secret, lifecycle_state, "
                    + "created_at, updated_at, bmc_identity, power_state) SELECT gen_random_uuid(), 'cbench-m-' || lpad(g::text, 5, '0'), "
                    + "'R' || (g % 40), 'REDFISH', 'cbench-' || g, 443, 'root', 'v1:none', 'ACTIVE', now(), now(), 'cbench-' || g || ':443', "
                    + "CASE WHEN g % 7 = 0 THEN 'OFF' ELSE 'ON' END FROM generate_series(1, " + TENANTS * 30 + ") g");
            st.execute("INSERT INTO lease_machine (lease_id, machine_id) SELECT l.id, m.id FROM machine m "
                    + "JOIN lease l ON l.external_ref = 'cbench-l-cbench-t-' || ((substr(m.name, 10)::int - 1) / 30 + 1) "
                    + "WHERE m.name LIKE 'cbench-m-%'");
            st.execute("UPDATE machine m SET data_tenant_id = l.tenant_id, data_lease_id = l.id, leased_since_erase = true "
                    + "FROM lease_machine lm JOIN lease l ON l.id = lm.lease_id WHERE lm.machine_id = m.id AND m.name LIKE 'cbench-m-%'");
            st.execute("ANALYZE");
        }
    }
}
