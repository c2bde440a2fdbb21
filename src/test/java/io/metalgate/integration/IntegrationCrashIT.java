package io.metalgate.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpServer;
import io.metalgate.testing.BrokerPeers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * Issue 14's crash test, black box: the packaged appliance (its own embedded PostgreSQL) takes 10,000 lease
 * events at once over HTTP, Kafka (KRaft broker from the Maven Central jars) and MQTT (Debian's mosquitto),
 * while it mails notices (GreenMail SMTP) and sends every lease transition to a webhook (a JDK HTTP
 * server). Mid-stream the appliance and its database are killed with SIGKILL (a power cut); it is
 * started again on the same data directory while the senders carry on as real ones do (HTTP retries,
 * Kafka re-delivers from the last commit, the MQTT broker keeps the persistent session's messages). Then:
 * every event stored once and applied once (each lease moved exactly twice), none lost; every notice
 * e-mailed and every transition delivered, each under one Message-ID / idempotency key (duplicates at
 * the receiver are allowed: that is what the keys are for; missing ones are not).
 */
class IntegrationCrashIT {

    private static final Path JAR = Path.of(System.getProperty("quarkus-run.jar", "target/quarkus-app/quarkus-run.jar"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LEASES = 5000;
    private static final int NOTICES = 100;
    private static final String TOPIC = "crash.lease-events";
    private static final String MQTT_TOPIC = "crash/lease-events";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private record Running(Process process, List<String> output) {
    }

    @Test
    void killedMidStreamItLosesNothingAppliesNothingTwiceAndSendsEveryNoticeUnderOneKey() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-crash-");
        int port = BrokerPeers.freePort();
        int smtp = BrokerPeers.freePort();
        GreenMail mail = new GreenMail(new ServerSetup(smtp, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        mail.start();
        Map<String, AtomicInteger> webhookKeys = new ConcurrentHashMap<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", ex -> {
            ex.getRequestBody().readAllBytes();
            webhookKeys.computeIfAbsent(ex.getRequestHeaders().getFirst("Idempotency-Key"), k -> new AtomicInteger()).incrementAndGet();
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.setExecutor(Executors.newFixedThreadPool(4));
        receiver.start();
        Running app = null;
        try (BrokerPeers.Broker mosquitto = BrokerPeers.mosquitto(); BrokerPeers.Broker kafka = BrokerPeers.kafka(4)) {
            Map<String, String> env = new java.util.HashMap<>(Map.of("QUARKUS_HTTP_PORT", String.valueOf(port), "METALGATE_DATA_DIR", dataDir.toString(),
                    "METALGATE_INTEGRATIONS_KAFKA_BROKERS", kafka.address(), "METALGATE_INTEGRATIONS_KAFKA_TOPIC", TOPIC,
                    "METALGATE_INTEGRATIONS_MQTT_BROKER_URL", "tcp://" + mosquitto.address(), "METALGATE_INTEGRATIONS_MQTT_TOPIC", MQTT_TOPIC,
                    "QUARKUS_MAILER_HOST", "127.0.0.1", "QUARKUS_MAILER_PORT", String.valueOf(smtp)));
            env.putAll(Map.of("QUARKUS_MAILER_FROM", "noc@provider.test", "METALGATE_OUTBOUND_POLL_INTERVAL", "PT0.5S",
                    "METALGATE_OUTBOUND_CLAIM", "PT10S"));
            app = start(env, port);
            String password = Files.readString(dataDir.resolve("admin.password")).strip();
            String auth = "Basic " + Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));

            // the fleet's contracts: 50 tenants with an address, 5,000 leases
            List<String> tenants = new ArrayList<>();
            for (int t = 0; t < 50; t++) {
                tenants.add(post(port, auth, "/api/tenants", Map.of("name", "crash-t" + t, "contactEmail", "t" + t + "@tenant.test"))
                        .get("id").asText());
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> setup = new ArrayList<>();
            for (int i = 0; i < LEASES; i++) {
                int n = i;
                setup.add(pool.submit(() -> post(port, auth, "/api/leases", Map.of("tenantId", tenants.get(n % 50), "externalRef", ref(n)))));
            }
            for (Future<?> f : setup) {
                f.get();
            }
            post(port, auth, "/api/outbound/endpoints", Map.of("name", "transitions", "kind", "WEBHOOK", "url", "http://127.0.0.1:"
                    + receiver.getAddress().getPort() + "/hook", "secret", "crash-test-webhook-secret", "actions", List.of("lease.transitioned")));

            // 10,000 events: each lease ACTIVATED then PAYMENT_OVERDUE, a third of the leases per channel
            int httpEnd = LEASES / 3;
            int kafkaEnd = 2 * LEASES / 3;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> senders = new ArrayList<>();
            AtomicInteger httpSent = new AtomicInteger();
            for (int w = 0; w < 4; w++) {
                int worker = w;
                senders.add(started(() -> {
                    try {
                        for (int i = worker; i < httpEnd; i += 4) {
                            sendUntilKept(port, auth, event(i, "ACTIVATED"));
                            sendUntilKept(port, auth, event(i, "PAYMENT_OVERDUE"));
                            httpSent.addAndGet(2);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            senders.add(started(() -> {
                Properties p = new Properties();
                p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.address());
                p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
                p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
                p.put(ProducerConfig.ACKS_CONFIG, "all");
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
                    for (int i = httpEnd; i < kafkaEnd; i++) {
                        producer.send(new ProducerRecord<>(TOPIC, ref(i), event(i, "ACTIVATED")));
                        producer.send(new ProducerRecord<>(TOPIC, ref(i), event(i, "PAYMENT_OVERDUE")));
                    }
                    producer.flush();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
            senders.add(started(() -> {
                try (MqttClient client = new MqttClient("tcp://" + mosquitto.address(), "crash-billing", new MemoryPersistence())) {
                    MqttConnectOptions o = new MqttConnectOptions();
                    o.setMaxInflight(1000);
                    client.connect(o);
                    for (int i = kafkaEnd; i < LEASES; i++) {
                        for (String type : List.of("ACTIVATED", "PAYMENT_OVERDUE")) {
                            MqttMessage m = new MqttMessage(event(i, type).getBytes(StandardCharsets.UTF_8));
                            m.setQos(1);
                            client.publish(MQTT_TOPIC, m);
                        }
                    }
                    client.disconnect();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
            // notices, e-mailed by the outbox as they are created
            senders.add(started(() -> {
                try {
                    for (int n = 0; n < NOTICES; n++) {
                        sendUntilKept(port, auth, "/api/notices", JSON.writeValueAsString(Map.of("kind", "SUSPENSION", "tenantId",
                                tenants.get(n % 50))));
                        Thread.sleep(50);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));

            // the power cut: mid-stream, appliance and database at once
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (webhookKeys.size() < 1500 && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertTrue(webhookKeys.size() >= 1500, "the stream never got going: " + webhookKeys.size() + " transitions delivered");
            killHard(app, dataDir);
            int atKill = webhookKeys.size();
            Thread.sleep(2000);
            app = start(env, port);

            for (Thread t : senders) {
                t.join(TimeUnit.MINUTES.toMillis(10));
            }
            if (failure.get() != null) {
                throw new AssertionError("a sender failed", failure.get());
            }
            // everything arrives in the end: 10,000 transitions delivered, every notice mailed
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while ((webhookKeys.size() < 2 * LEASES || distinctMessageIds(mail).size() < NOTICES) && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            System.out.println("crash test, the appliance's records: " + records(dataDir));
            // counted in the appliance's own records
            JsonNode leases = get(port, auth, "/api/leases?size=1&state=OVERDUE");
            assertEquals(LEASES, leases.get("total").asInt(), "every lease moved by both of its events");
            assertEquals(2 * LEASES, webhookKeys.size(), "every transition delivered under its own key (" + atKill + " before the cut)");
            JsonNode notices = get(port, auth, "/api/notices?tenantId=" + tenants.get(0));
            int perTenant = notices.size();
            assertTrue(perTenant >= NOTICES / 50, "notices of a tenant: " + perTenant);
            Set<String> ids = distinctMessageIds(mail);
            // a notice whose POST was cut off may have been created and then sent again by the sender: count the appliance's
            int created = 0;
            for (String t : tenants) {
                created += get(port, auth, "/api/notices?tenantId=" + t).size();
            }
            assertEquals(created, ids.size(), "each notice mailed under one Message-ID, none missing");
            // none applied twice: exactly two transitions per lease (ACTIVATED, PAYMENT_OVERDUE)
            JsonNode audit = get(port, auth, "/api/audit?action=lease.transitioned&limit=1");
            assertTrue(audit.get("items").size() > 0);
            assertEquals(2 * LEASES, countAudit(port, auth, "lease.transitioned"), "lease transitions recorded");
            long duplicates = webhookKeys.values().stream().filter(c -> c.get() > 1).count();
            System.out.printf("crash test: %d transitions delivered before the cut, %d keys received more than once (resent after the cut), "
                    + "%d notices mailed%n", atKill, duplicates, ids.size());
        } finally {
            if (app != null) {
                app.process().destroy();
                app.process().waitFor(60, TimeUnit.SECONDS);
            }
            receiver.stop(0);
            mail.stop();
        }
    }

    private static Thread started(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    /** Inbound events by status, dead letters and deliveries by status, read from the appliance's database (for the record). */
    private static String records(Path dataDir) {
        try {
            List<String> pid = Files.readAllLines(dataDir.resolve("postgres/postmaster.pid"));
            String url = "jdbc:postgresql://127.0.0.1:" + pid.get(3).strip() + "/metalgate";
            try (var c = java.sql.DriverManager.getConnection(url, "metalgate_owner", Files.readString(dataDir.resolve("db-owner.password")).strip());
                    var st = c.createStatement();
                    var rs = st.executeQuery("SELECT 'event ' || status, count(*) FROM inbound_event GROUP BY status UNION ALL "
                            + "SELECT 'dead letter ' || channel, count(*) FROM dead_letter GROUP BY channel UNION ALL "
                            + "SELECT 'delivery ' || status, count(*) FROM outbound_delivery GROUP BY status")) {
                StringBuilder out = new StringBuilder();
                while (rs.next()) {
                    out.append(rs.getString(1)).append('=').append(rs.getLong(2)).append(' ');
                }
                return out.toString();
            }
        } catch (Exception e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String ref(int i) {
        return "crash-lease-" + i;
    }

    private static String event(int i, String type) {
        return "{\"source\":\"billing\",\"externalId\":\"" + ref(i) + "-" + type + "\",\"type\":\"" + type + "\",\"leaseRef\":\"" + ref(i) + "\"}";
    }

    private static Set<String> distinctMessageIds(GreenMail mail) {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        for (var m : mail.getReceivedMessages()) {
            try {
                ids.add(m.getMessageID());
            } catch (jakarta.mail.MessagingException e) {
                throw new IllegalStateException(e);
            }
        }
        return ids;
    }

    private long countAudit(int port, String auth, String action) throws Exception {
        long count = 0;
        long after = 0;
        while (true) {
            JsonNode page = get(port, auth, "/api/audit?action=" + action + "&limit=1000&afterSeq=" + after);
            JsonNode items = page.get("items");
            if (items.isEmpty()) {
                return count;
            }
            count += items.size();
            after = items.get(items.size() - 1).get("seq").asLong();
        }
    }

    private void sendUntilKept(int port, String auth, String body) throws Exception {
        sendUntilKept(port, auth, "/api/integrations/lease-events", body);
    }

    /** Sends as a real sender does: again on a refused connection or a 5xx, until the appliance says it kept the message. */
    private void sendUntilKept(int port, String auth, String path, String body) throws Exception {
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (true) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(30)).header("Authorization", auth).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() < 300) {
                    return;
                }
                if (r.statusCode() < 500) {
                    throw new AssertionError(path + " answered " + r.statusCode() + ": " + r.body() + " for " + body);
                }
            } catch (IOException down) {
                // the appliance is down: try again
            }
            if (System.nanoTime() > until) {
                throw new AssertionError("the appliance never took " + body);
            }
            Thread.sleep(200);
        }
    }

    private JsonNode post(int port, String auth, String path, Object body) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", auth).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(r.statusCode() < 300, path + ": " + r.statusCode() + " " + r.body());
            return JSON.readTree(r.body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode get(int port, String auth, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", auth).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** SIGKILL to the appliance and to its PostgreSQL's postmaster: nothing gets to shut down cleanly. */
    private static void killHard(Running app, Path dataDir) throws Exception {
        Path pid = dataDir.resolve("postgres/postmaster.pid");
        String postmaster = Files.exists(pid) ? Files.readAllLines(pid).get(0).strip() : null;
        app.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        if (postmaster != null) {
            new ProcessBuilder("kill", "-9", postmaster).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Running start(Map<String, String> env, int port) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m", "-jar",
                JAR.toString()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        List<String> output = io.metalgate.testing.ProcessLines.collect(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (output.stream().noneMatch(l -> l.contains("Listening on: http://0.0.0.0:" + port))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("appliance did not start: " + String.join("\n", output));
            }
            Thread.sleep(100);
        }
        return new Running(p, output);
    }
}
