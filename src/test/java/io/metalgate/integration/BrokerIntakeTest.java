package io.metalgate.integration;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.BrokerPeers;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * Lease events over real brokers: Debian's mosquitto (MQTT 3.1.1, QoS 1) and a KRaft Kafka broker from
 * the Maven Central jars, both local processes ({@link BrokerPeers}). Events are stored and applied in
 * the order published; a bad message is a dead letter and still acknowledged (it is kept); Kafka's
 * committed offsets reach the end only once every record is kept.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
@QuarkusTestResource(value = BrokerIntakeTest.Brokers.class, restrictToAnnotatedClass = true)
public class BrokerIntakeTest {

    public static final String TOPIC = "billing.lease-events";
    static final String MQTT_TOPIC = "billing/lease-events";

    public static class Brokers implements QuarkusTestResourceLifecycleManager {
        public static BrokerPeers.Broker mosquitto;
        public static BrokerPeers.Broker kafka;

        @Override
        public Map<String, String> start() {
            try {
                mosquitto = BrokerPeers.mosquitto();
                kafka = BrokerPeers.kafka(4);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of("metalgate.integrations.kafka.brokers", kafka.address(), "metalgate.integrations.kafka.topic", TOPIC,
                    "metalgate.integrations.mqtt.broker-url", "tcp://" + mosquitto.address(), "metalgate.integrations.mqtt.topic",
                    MQTT_TOPIC, "metalgate.integrations.mqtt.client-id", "metalgate-test");
        }

        @Override
        public void stop() {
            for (BrokerPeers.Broker b : new BrokerPeers.Broker[] { mosquitto, kafka }) {
                try {
                    if (b != null) {
                        b.close();
                    }
                } catch (Exception ignored) {
                    // the test's outcome is what matters
                }
            }
        }
    }

    private static String lease() {
        String tenant = operator().body(Map.of("name", unique("t"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        String ref = unique("L");
        operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
        return ref;
    }

    private static String event(String ext, String type, String ref) {
        return "{\"source\":\"billing\",\"externalId\":\"" + ext + "\",\"type\":\"" + type + "\",\"leaseRef\":\"" + ref + "\"}";
    }

    private static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
        Instant until = Instant.now().plus(Duration.ofSeconds(90));
        while (!condition.get()) {
            if (Instant.now().isAfter(until)) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(100);
        }
    }

    private static String status(String ext) {
        return sqlValue("SELECT status FROM inbound_event WHERE source = 'billing' AND external_id = ?", ext);
    }

    @Test
    void mqttEventsAreStoredAndAppliedInTheOrderPublishedAndABadOneIsKept() throws Exception {
        String ref = lease();
        String a = unique("m"), b = unique("m"), c = unique("m");
        String bad = "{\"source\":\"billing\",\"externalId\":\"" + unique("bad") + "\",\"type\":\"EXPLODED\",\"leaseRef\":\"" + ref + "\"}";
        try (MqttClient client = new MqttClient("tcp://" + Brokers.mosquitto.address(), unique("billing"), new MemoryPersistence())) {
            MqttConnectOptions options = new MqttConnectOptions();
            options.setCleanSession(true);
            client.connect(options);
            for (String body : List.of(event(a, "ACTIVATED", ref), event(b, "PAYMENT_OVERDUE", ref), bad, event(c, "PAYMENT_RECEIVED", ref))) {
                MqttMessage m = new MqttMessage(body.getBytes(StandardCharsets.UTF_8));
                m.setQos(1);
                client.publish(MQTT_TOPIC, m);
            }
            client.disconnect();
        }
        await("the three events are applied", () -> "APPLIED".equals(status(c)));
        assertEquals("APPLIED", status(a));
        assertEquals("APPLIED", status(b));
        assertEquals("ACTIVE", sqlValue("SELECT state FROM lease WHERE external_ref = ?", ref));
        assertEquals(3L, Long.parseLong(sqlValue("SELECT count(*) FROM state_transition t JOIN lease l ON l.id = t.subject_id "
                + "WHERE l.external_ref = ?", ref)));
        assertEquals("mqtt:" + MQTT_TOPIC, sqlValue("SELECT actor FROM state_transition t JOIN lease l ON l.id = t.subject_id "
                + "WHERE l.external_ref = ? AND t.event = 'ACTIVATED'", ref));
        await("the bad message is a dead letter", () -> sqlValue("SELECT count(*) FROM dead_letter WHERE channel = 'mqtt:" + MQTT_TOPIC
                + "' AND body = ?", bad).equals("1"));
    }

    @Test
    void kafkaRecordsAreStoredAppliedAndOnlyThenCommitted() throws Exception {
        int leases = 8;
        List<String> refs = new java.util.ArrayList<>();
        for (int i = 0; i < leases; i++) {
            refs.add(lease());
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Brokers.kafka.address());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        String last = null;
        String bad = "{\"not\": \"an event\"}" + unique("x");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (String ref : refs) {
                // keyed by lease: one lease's events stay in one partition, in order
                producer.send(new ProducerRecord<>(TOPIC, ref, event(unique("k"), "ACTIVATED", ref)));
                last = unique("k");
                producer.send(new ProducerRecord<>(TOPIC, ref, event(last, "PAYMENT_OVERDUE", ref)));
            }
            producer.send(new ProducerRecord<>(TOPIC, "junk", bad));
            producer.flush();
        }
        String lastEvent = last;
        await("every lease is OVERDUE", () -> refs.stream().allMatch(r -> "OVERDUE".equals(sqlValue("SELECT state FROM lease WHERE external_ref = ?", r))));
        assertEquals("APPLIED", status(lastEvent));
        await("the bad record is a dead letter", () -> sqlValue("SELECT count(*) FROM dead_letter WHERE channel = 'kafka:" + TOPIC
                + "' AND body = ?", bad).equals("1"));
        // every record kept: the group's committed offsets reach the end of every partition
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, Brokers.kafka.address());
        try (Admin admin = Admin.create(ap)) {
            await("offsets committed to the end", () -> {
                try {
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("metalgate").partitionsToOffsetAndMetadata()
                            .get();
                    var ends = admin.listOffsets(committed.keySet().stream().collect(java.util.stream.Collectors.toMap(tp -> tp,
                            tp -> OffsetSpec.latest()))).all().get();
                    long total = ends.values().stream().mapToLong(e -> e.offset()).sum();
                    return total == 2L * leases + 1 && committed.entrySet().stream()
                            .allMatch(e -> e.getValue().offset() == ends.get(e.getKey()).offset());
                } catch (Exception e) {
                    return false;
                }
            });
        }
        // the lease events were settled by poll batches, the bad record went through the route alone
        String metrics = io.metalgate.testing.Api.as("viewer").get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("metalgate_intake_events_total{") && l.contains("path=\"batch\"")
                && l.contains("kafka:" + TOPIC) && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) >= 2.0 * leases), metrics.lines()
                        .filter(l -> l.startsWith("metalgate_intake")).toList().toString());
    }
}
