package io.metalgate.appliance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.DataDirectory;
import io.metalgate.common.MetalgateConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The demo lab ({@code ./metalgate run --demo}): into an empty data directory, seeds a fleet of emulated machines —
 * the Redfish emulator's BMCs (every vendor profile) and the IPMI simulator's, started beside the appliance by the
 * script — with four tenants in varied states: an active lease, a suspended one, a terminated one under a
 * preservation hold with a bounced notice, a terminated one with a delivered notice and an erase waiting for
 * approval, and a bulk erase the gate blocks. Everything goes through the appliance's own REST API, as the demo's
 * people, so the lab is made of the same audited facts a real fleet is, and the audit log tells how it was built.
 */
@ApplicationScoped
public class DemoLab {

    private static final Logger LOG = Logger.getLogger(DemoLab.class);

    /** The demo's people: user name → role. */
    static final Map<String, String> PEOPLE = new LinkedHashMap<>();

    static {
        PEOPLE.put("olivia", "operator");
        PEOPLE.put("alan", "approver");
        PEOPLE.put("lena", "legal");
        PEOPLE.put("bill", "billing");
        PEOPLE.put("vera", "viewer");
    }

    record Tenant(String name, String email, int machines) {
    }

    static final List<Tenant> TENANTS = List.of(new Tenant("Acme Hosting", "noc@acme.example", 14), new Tenant("Globex", "ops@globex.example", 10),
            new Tenant("Initech", "it@initech.example", 8), new Tenant("Umbrella", "admin@umbrella.example", 6));

    @Inject
    MetalgateConfig config;
    @Inject
    DataDirectory dataDir;
    @ConfigProperty(name = "quarkus.http.port")
    int port;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    void onStart(@Observes StartupEvent event) {
        if (!config.demo().enabled()) {
            return;
        }
        Thread seeder = new Thread(() -> {
            try {
                seed();
            } catch (Exception e) {
                LOG.errorf(e, "demo lab: seeding stopped: %s", e.getMessage());
            }
        }, "metalgate-demo-lab");
        seeder.setDaemon(true);
        seeder.start();
    }

    void seed() throws Exception {
        String base = "http://127.0.0.1:" + port;
        awaitUp(base);
        String admin = basic("admin", Files.readString(dataDir.root().resolve("admin.password")).strip());
        if (call(admin, "GET", base + "/api/machines?size=1", null).path("total").asLong() > 0) {
            if (Files.exists(dataDir.root().resolve("demo-seeded"))) {
                LOG.info("demo lab: the fleet is already there (seeded at an earlier start)");
                announce();
            } else {
                LOG.warnf("demo lab: %s holds machines but no finished demo lab: nothing seeded (remove the directory to start afresh)",
                        dataDir.root());
            }
            return;
        }
        String password = config.demo().password();
        for (var p : PEOPLE.entrySet()) {
            call(admin, "POST", base + "/api/users", Map.of("username", p.getKey(), "password", password, "roles", List.of(p.getValue())));
        }
        String operator = basic("olivia", password);
        String billing = basic("bill", password);
        String legal = basic("lena", password);
        String approver = basic("alan", password);

        List<String> tenants = new ArrayList<>();
        for (Tenant t : TENANTS) {
            // billing, the system of record for customers, brings them with their contact addresses
            tenants.add(call(billing, "POST", base + "/api/tenants", Map.of("name", t.name(), "contactEmail", t.email())).path("id").asText());
        }
        // every BMC of the emulators is a machine: Redfish BMC i on 127.1.0.i (profiles in turn), IPMI BMC i on 127.2.0.(i+1)
        List<String> machines = new ArrayList<>();
        int redfish = config.demo().redfishBmcs();
        int ipmi = config.demo().ipmiBmcs();
        for (int i = 0; i < redfish + ipmi; i++) {
            boolean isRedfish = i < redfish;
            int rack = 1 + i / 12;
            Map<String, Object> bmc = isRedfish
                    ? Map.of("protocol", "REDFISH", "host", "127.1." + (i / 256) + "." + (i % 256), "port", config.demo().redfishPort(),
                            "username", "admin", "password", "redfish-secret")
                    : Map.of("protocol", "IPMI", "host", "127.2." + ((i - redfish) / 254) + "." + (1 + (i - redfish) % 254), "port",
                            config.demo().ipmiPort(), "username", "admin", "password", "ipmi-secret");
            String name = String.format("fra1-r%d-%s%02d", rack, isRedfish ? "rf" : "ipmi", isRedfish ? i : i - redfish);
            machines.add(call(operator, "POST", base + "/api/machines", Map.of("name", name, "rack", "R" + rack, "location", "FRA1", "bmc", bmc))
                    .path("id").asText());
        }
        for (String m : machines) {
            awaitState(operator, base, m, "MANAGEABLE");
            call(operator, "POST", base + "/api/machines/" + m + "/inventory", null);
        }
        for (String m : machines) {
            awaitState(operator, base, m, "AVAILABLE");
        }
        int next = 0;
        List<String> leases = new ArrayList<>();
        List<List<String>> fleets = new ArrayList<>();
        for (int t = 0; t < TENANTS.size(); t++) {
            List<String> fleet = machines.subList(next, next + TENANTS.get(t).machines());
            next += fleet.size();
            String lease = call(operator, "POST", base + "/api/leases", Map.of("tenantId", tenants.get(t), "externalRef",
                    "DEMO-" + TENANTS.get(t).name().toUpperCase(java.util.Locale.ROOT).replace(' ', '-'), "machineIds", fleet)).path("id").asText();
            call(billing, "POST", base + "/api/leases/" + lease + "/events", Map.of("event", "ACTIVATED"));
            for (String m : fleet) {
                awaitState(operator, base, m, "DEPLOYING");
                call(operator, "POST", base + "/api/machines/" + m + "/lifecycle/deployed", null);
                // a deployed server runs: powered on through the gate, like every BMC operation
                call(operator, "POST", base + "/api/machines/" + m + "/power", Map.of("action", "on"));
            }
            leases.add(lease);
            fleets.add(List.copyOf(fleet));
        }
        // Globex stopped paying: billing suspends (the conductor powers its machines off through the gate)
        call(billing, "POST", base + "/api/leases/" + leases.get(1) + "/events", Map.of("event", "PAYMENT_OVERDUE", "reason", "invoice 2026-11 unpaid"));
        call(billing, "POST", base + "/api/leases/" + leases.get(1) + "/events", Map.of("event", "SUSPENDED", "reason", "invoice 2026-11 unpaid"));
        // Initech and Umbrella ended their contracts: their machines are kept (RETAINED) with their data
        call(billing, "POST", base + "/api/leases/" + leases.get(2) + "/events", Map.of("event", "TERMINATED", "reason", "contract ended"));
        call(billing, "POST", base + "/api/leases/" + leases.get(3) + "/events", Map.of("event", "TERMINATED", "reason", "contract ended"));
        // Initech's lawyers asked for preservation; the termination notice bounced
        call(legal, "POST", base + "/api/holds", Map.of("kind", "PRESERVATION_REQUEST", "tenantId", tenants.get(2), "reason",
                "letter from Initech's counsel of 2026-12-01: preserve all data pending litigation"));
        String bounced = call(operator, "POST", base + "/api/notices", Map.of("kind", "TERMINATION", "tenantId", tenants.get(2), "leaseId",
                leases.get(2))).path("id").asText();
        call(operator, "POST", base + "/api/notices/" + bounced + "/attempts", Map.of("channel", "EMAIL", "outcome", "BOUNCED", "proof",
                "550 5.1.1 <it@initech.example>: mailbox unavailable"));
        // Umbrella was told, and the mail server took the notice
        String delivered = call(operator, "POST", base + "/api/notices", Map.of("kind", "TERMINATION", "tenantId", tenants.get(3), "leaseId",
                leases.get(3))).path("id").asText();
        String attempt = call(operator, "POST", base + "/api/notices/" + delivered + "/attempts", Map.of("channel", "EMAIL", "outcome",
                "DELIVERED", "proof", "250 2.0.0 Ok: queued as 4XyZ1 <notice-demo@metalgate>")).path("attempts").path(0).path("id").asText();
        // typed in by one person, it is proof once a second confirms it
        call(approver, "POST", base + "/api/notices/" + delivered + "/attempts/" + attempt + "/confirmations", Map.of("reason",
                "the mail server's log shows it queued"));
        for (List<String> fleet : fleets.subList(1, 4)) {
            for (String m : fleet) {
                awaitState(operator, base, m, fleet == fleets.get(1) ? "SUSPENDED" : "RETAINED");
            }
        }
        // one erase waits for a second person; one bulk erase is blocked by the hold
        call(operator, "POST", base + "/api/machines/" + fleets.get(3).get(0) + "/action-requests", Map.of("action", "ERASE", "reason",
                "Umbrella's contract ended; erase after retention"));
        call(operator, "POST", base + "/api/bulk/erase?summary=true", Map.of("selector", Map.of("tenantId", tenants.get(2)), "reason",
                "Initech's contract ended: erase its servers"));
        call(operator, "POST", base + "/api/power-sync", null); // the console shows the power states the BMCs report now
        Files.writeString(dataDir.root().resolve("demo-seeded"), java.time.Instant.now() + "\n");
        announce();
    }

    private void announce() {
        String people = String.join(", ", PEOPLE.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue() + ")").toList());
        // stdout, like the admin password at first start: it is a demo's password, for a newcomer to sign in with
        System.out.println("metalgate demo lab ready: " + (config.demo().redfishBmcs() + config.demo().ipmiBmcs())
                + " emulated machines, 4 tenants. Open http://localhost:" + port + "/ and sign in as " + people + " with the password '"
                + config.demo().password() + "' (or as admin).");
    }

    private void awaitUp(String base) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(base + "/q/health/ready")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the appliance did not become ready");
            }
            Thread.sleep(250);
        }
    }

    private void awaitState(String auth, String base, String machine, String state) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            last = call(auth, "GET", base + "/api/machines/" + machine, null).path("state").asText();
            if (state.equals(last)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("machine " + machine + " is " + last + ", not " + state + " (are the emulators running?)");
    }

    private JsonNode call(String auth, String method, String url, Object body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).header("Authorization", auth);
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(method + " " + url + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().isEmpty() ? json.createObjectNode() : json.readTree(r.body());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
