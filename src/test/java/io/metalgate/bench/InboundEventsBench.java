package io.metalgate.bench;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;

import io.metalgate.integration.BrokerIntakeTest;
import io.metalgate.testing.Api;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 point 8: inbound lease events per second end to end (received, stored, idempotency-checked, applied,
 * audited and chained), over HTTP (billing's API token, {@code bench.clients} concurrent senders, each lease's two
 * events in order) and over Kafka (a KRaft broker from the Maven Central jars, records keyed by lease, the shipped
 * 4 consumers on 4 partitions). Target: ≥ 2,000 events/s. {@code -Dbench.leases=N} (2 events each).
 */
@Tag("bench")
@QuarkusTest
@TestProfile(InboundEventsBench.WithKafka.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
@QuarkusTestResource(value = BrokerIntakeTest.Brokers.class, restrictToAnnotatedClass = true)
class InboundEventsBench {

    /** Its own application instance, so the brokers' configuration does not leak into other tests. */
    public static class WithKafka extends io.metalgate.testing.ShippedDefaults {
    }

    private static final int LEASES = Integer.getInteger("bench.leases", 5000);
    private static final int CLIENTS = Integer.getInteger("bench.clients", 32);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static List<String> leases(int n) throws Exception {
        return leases(n, unique("b"));
    }

    /** {@code n} leases whose references start with {@code prefix} (one phase's, so its events are counted apart). */
    private static List<String> leases(int n, String prefix) throws Exception {
        List<String> tenants = new ArrayList<>();
        for (int t = 0; t < 20; t++) {
            tenants.add(operator().body(Map.of("name", unique("bench-t"))).post("/api/tenants").then().statusCode(201).extract().path("id"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String tenant = tenants.get(i % tenants.size());
            out.add(pool.submit(() -> {
                String ref = prefix + "-" + java.util.UUID.randomUUID();
                operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
                return ref;
            }));
        }
        List<String> refs = new ArrayList<>();
        for (Future<String> f : out) {
            refs.add(f.get());
        }
        pool.shutdown();
        return refs;
    }

    private static String event(String ref, String type) {
        return "{\"source\":\"billing\",\"externalId\":\"" + ref + "-" + type + "\",\"type\":\"" + type + "\",\"leaseRef\":\"" + ref + "\"}";
    }

    @Test
    void inboundEventsPerSecond() throws Exception {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        Api.as("billing");
        String auth = "Basic " + Base64.getEncoder().encodeToString(("test-billing:" + Api.PASSWORD).getBytes(StandardCharsets.UTF_8));

        // warm-up: 200 leases' events over HTTP, not measured
        send(port, auth, leases(200), 8);

        String httpPrefix = unique("bench-http");
        List<String> overHttp = leases(LEASES, httpPrefix);
        // -Dbench.jfr=FILE: a JFR profile of the HTTP phase (an attach from outside stops surefire's fork)
        jdk.jfr.Recording recording = System.getProperty("bench.jfr") == null ? null : new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
        if (recording != null) {
            recording.start();
        }
        long t0 = System.nanoTime();
        send(port, auth, overHttp, CLIENTS);
        double httpSeconds = (System.nanoTime() - t0) / 1e9;
        if (recording != null) {
            recording.dump(java.nio.file.Path.of(System.getProperty("bench.jfr")));
            recording.close();
        }
        long applied = Long.parseLong(sqlValue("SELECT count(*) FROM inbound_event WHERE status = 'APPLIED' AND external_id LIKE ?",
                httpPrefix + "-%"));
        requireAllOverdue(httpPrefix);
        System.out.printf("BENCH inbound HTTP: %d events in %.2f s = %.0f events/s (%d clients; %d applied)%n", 2 * LEASES, httpSeconds,
                2 * LEASES / httpSeconds, CLIENTS, applied);

        // HTTP, batched: bench.batch events per request (each lease's two events in one request, in order), 4 senders
        String batchPrefix = unique("bench-batch");
        List<String> inBatches = leases(LEASES, batchPrefix);
        long b0 = System.nanoTime();
        sendBatches(port, auth, inBatches, 4, BATCH);
        double batchSeconds = (System.nanoTime() - b0) / 1e9;
        requireAllOverdue(batchPrefix);
        System.out.printf("BENCH inbound HTTP batches: %d events in %.2f s = %.0f events/s (%d events per request, 4 clients)%n", 2 * LEASES,
                batchSeconds, 2 * LEASES / batchSeconds, BATCH);

        String prefix = unique("bench-kafka");
        List<String> overKafka = leases(LEASES, prefix);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BrokerIntakeTest.Brokers.kafka.address());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        long k0 = System.nanoTime();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (String ref : overKafka) {
                producer.send(new ProducerRecord<>(BrokerIntakeTest.TOPIC, ref, event(ref, "ACTIVATED")));
                producer.send(new ProducerRecord<>(BrokerIntakeTest.TOPIC, ref, event(ref, "PAYMENT_OVERDUE")));
            }
            producer.flush();
        }
        double produced = (System.nanoTime() - k0) / 1e9;
        long done;
        while ((done = Long.parseLong(sqlValue("SELECT count(*) FROM inbound_event WHERE status = 'APPLIED' AND external_id LIKE ?",
                prefix + "-%"))) < 2L * LEASES) {
            if ((System.nanoTime() - k0) / 1e9 > 600) {
                throw new AssertionError("Kafka: only " + done + " of " + 2 * LEASES + " applied in 10 minutes");
            }
            Thread.sleep(100);
        }
        double kafkaSeconds = (System.nanoTime() - k0) / 1e9;
        requireAllOverdue(prefix);
        System.out.printf("BENCH inbound Kafka: %d events in %.2f s = %.0f events/s (produced in %.2f s; 4 partitions, 4 consumers)%n",
                2 * LEASES, kafkaSeconds, 2 * LEASES / kafkaSeconds, produced);
    }

    private static final int BATCH = Integer.getInteger("bench.batch", 500);

    /** Every lease of a phase moved exactly twice, to OVERDUE: a fast path that applies wrongly is no result. */
    private static void requireAllOverdue(String prefix) {
        String wrong = sqlValue("SELECT count(*) FROM lease l WHERE l.external_ref LIKE ? AND (l.state <> 'OVERDUE' OR (SELECT count(*) FROM "
                + "state_transition t WHERE t.subject_id = l.id) <> 2)", prefix + "-%");
        if (!"0".equals(wrong)) {
            throw new AssertionError(wrong + " lease(s) of " + prefix + " not moved exactly twice to OVERDUE");
        }
    }

    private void sendBatches(int port, String auth, List<String> refs, int clients, int perRequest) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> all = new ArrayList<>();
        int leasesPerRequest = Math.max(1, perRequest / 2);
        for (int c = 0; c < clients; c++) {
            int client = c;
            all.add(pool.submit(() -> {
                for (int start = client * leasesPerRequest; start < refs.size(); start += clients * leasesPerRequest) {
                    StringBuilder body = new StringBuilder("[");
                    for (int i = start; i < Math.min(refs.size(), start + leasesPerRequest); i++) {
                        for (String type : List.of("ACTIVATED", "PAYMENT_OVERDUE")) {
                            body.append(body.length() > 1 ? "," : "").append(event(refs.get(i), type));
                        }
                    }
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/api/integrations/lease-events/batch")).header("Authorization", auth).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body.append(']').toString())).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200 || r.body().contains("\"outcome\":\"FAILED\"")) {
                        throw new AssertionError(r.statusCode() + " " + r.body());
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : all) {
            f.get();
        }
        pool.shutdown();
    }

    private void send(int port, String auth, List<String> refs, int clients) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> all = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            all.add(pool.submit(() -> {
                for (int i = client; i < refs.size(); i += clients) {
                    for (String type : List.of("ACTIVATED", "PAYMENT_OVERDUE")) {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                                + "/api/integrations/lease-events")).header("Authorization", auth).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(event(refs.get(i), type))).build(), HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 202) {
                            throw new AssertionError(r.statusCode() + " " + r.body());
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : all) {
            f.get();
        }
        pool.shutdown();
    }
}
