package io.metalgate.integration;

import io.metalgate.common.MetalgateConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.jboss.logging.Logger;

/**
 * Lease events from message brokers: a Kafka topic and an MQTT 3.1.1 topic, each configured or absent
 * ({@code metalgate.integrations.kafka.*}, {@code metalgate.integrations.mqtt.*}). A message is
 * acknowledged only after the intake kept it (an event stored, or a dead letter): Kafka offsets are
 * committed by hand after each record, MQTT QoS 1 messages are acknowledged when the exchange completes
 * (Paho's manual acks). When not even a dead letter could be written, nothing is acknowledged: Kafka
 * seeks back and delivers the record again, the MQTT broker redelivers the unacknowledged message when
 * the session resumes (a persistent session: cleanSession=false).
 *
 * <p>The consumer's thread waits for the intake (a synchronous request): the events of a partition or
 * topic are applied in the order they were published, which lease events need (ACTIVATED before
 * PAYMENT_OVERDUE). Kafka partitions are consumed in parallel; billing keys its records by lease, so
 * one lease's events stay in one partition. Who may publish is the broker's to decide (its ACLs): an
 * event is recorded in the name of the topic it came from.
 */
@ApplicationScoped
public class BrokerRoutes extends RouteBuilder {

    private static final Logger LOG = Logger.getLogger(BrokerRoutes.class);

    @Inject
    MetalgateConfig config;
    @Inject
    ProducerTemplate camel;
    @Inject
    MessageBatches batches;
    @Inject
    io.micrometer.core.instrument.MeterRegistry metrics;

    @Override
    public void configure() {
        var kafka = config.integrations().kafka();
        if (kafka.brokers().isPresent()) {
            String channel = "kafka:" + kafka.topic();
            fromF("kafka:%s?brokers=%s&groupId=%s&autoOffsetReset=earliest&autoCommitEnable=false&allowManualCommit=true"
                    + "&breakOnFirstError=true&consumersCount=%d&maxPollRecords=%d&batching=true&pollTimeoutMs=%d", kafka.topic(),
                    kafka.brokers().get(), kafka.groupId(), kafka.consumers(), kafka.maxPollRecords(), kafka.pollTimeout().toMillis())
                    .routeId("kafka-lease-events")
                    .process(ex -> intakePoll(ex, channel));
        }
        var mqtt = config.integrations().mqtt();
        if (mqtt.brokerUrl().isPresent()) {
            String channel = "mqtt:" + mqtt.topic();
            try {
                mqttClient = new GatedMqttClient(mqtt.brokerUrl().get(), mqtt.clientId(), new MemoryPersistence());
            } catch (MqttException e) {
                throw new IllegalStateException("MQTT broker URL " + mqtt.brokerUrl().get() + ": " + e.getMessage(), e);
            }
            mqttClient.setManualAcks(true);
            getContext().getRegistry().bind(MQTT_CLIENT, mqttClient);
            // the client is ours (Camel connects the ones it makes before it can take messages): connected, then the route started
            from("paho:" + mqtt.topic() + "?client=#" + MQTT_CLIENT + "&qos=1&manualAcksEnabled=true").routeId(MQTT_ROUTE).autoStartup(false)
                    .process(ex -> intake(ex, channel));
        }
    }

    static final String MQTT_CLIENT = "metalgateMqttClient";
    static final String MQTT_ROUTE = "mqtt-lease-events";
    private volatile GatedMqttClient mqttClient;
    private volatile boolean stopping;

    /** Connects the MQTT client (again every 5 s while the broker cannot be reached) and then starts its route. */
    void connectMqtt(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent start) {
        if (mqttClient == null) {
            return;
        }
        var mqtt = config.integrations().mqtt();
        MqttConnectOptions options = new MqttConnectOptions();
        options.setCleanSession(false);
        options.setAutomaticReconnect(true);
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setMaxInflight(1000);
        mqtt.userName().ifPresent(options::setUserName);
        mqtt.password().ifPresent(p -> options.setPassword(p.toCharArray()));
        Thread t = new Thread(() -> {
            while (!stopping) {
                try {
                    mqttClient.connect(options);
                    getContext().getRouteController().startRoute(MQTT_ROUTE);
                    LOG.infof("MQTT lease events: connected to %s, topic %s", mqtt.brokerUrl().get(), mqtt.topic());
                    return;
                } catch (Exception e) {
                    LOG.warnf("MQTT lease events: cannot connect to %s yet (%s); trying again in 5 s", mqtt.brokerUrl().get(), e.getMessage());
                    try {
                        Thread.sleep(5000);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
        }, "mqtt-connect");
        t.setDaemon(true);
        t.start();
    }

    @jakarta.annotation.PreDestroy
    void closeMqtt() {
        stopping = true;
        GatedMqttClient c = mqttClient;
        if (c != null) {
            try {
                if (c.isConnected()) {
                    c.disconnect(5000);
                }
                c.close();
            } catch (MqttException ignored) {
                // closing anyway
            }
        }
    }

    /**
     * A poll's records (Kafka batching): the plain lease events settled together by {@link BatchIntake} (one transaction),
     * then whatever it left, one by one and in order, through the intake route (invalid messages, holds, notes, conflicts:
     * the route's dead letters and holds); then each partition's offset committed after its last record. Runs on the
     * Kafka consumer's own thread, which waits (a partition's records are taken in order). A failure commits nothing:
     * the consumer seeks back to the poll's first record (breakOnFirstError) and the batch comes again, its events then
     * found stored (duplicates, applied once).
     */
    private void intakePoll(Exchange ex, String channel) {
        List<?> polled = ex.getMessage().getBody(List.class);
        if (polled == null || polled.isEmpty()) {
            return;
        }
        List<Exchange> records = new ArrayList<>();
        List<String> bodies = new ArrayList<>();
        polled.forEach(o -> {
            records.add((Exchange) o);
            bodies.add(((Exchange) o).getMessage().getBody(String.class));
        });
        MessageBatches.Taken taken = batches.take(bodies, channel, channel);
        if (taken.refused() != null) {
            throw new IllegalStateException("the intake could not keep a message from " + channel, taken.refused().getException());
        }
        Map<Object, Exchange> lastOfPartition = new LinkedHashMap<>();
        records.forEach(r -> lastOfPartition.put(r.getMessage().getHeader(KafkaConstants.PARTITION), r));
        lastOfPartition.values().forEach(r -> r.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class).commit());
        metrics.counter("metalgate_intake_events", "channel", channel, "path", "batch").increment(taken.batched());
        metrics.counter("metalgate_intake_events", "channel", channel, "path", "route").increment(records.size() - taken.batched());
    }

    /** Hands the message to the intake and waits; fails the exchange (no acknowledgment) when it was not kept. */
    private void intake(Exchange ex, String channel) {
        String body = ex.getMessage().getBody(String.class);
        Exchange reply = camel.request(LeaseEventRoutes.INTAKE, r -> {
            r.getMessage().setBody(body == null ? "" : body);
            r.getMessage().setHeader(LeaseEventRoutes.ACTOR, channel);
            r.getMessage().setHeader(LeaseEventRoutes.CHANNEL, channel);
        });
        if (reply.getException() != null) {
            throw new IllegalStateException("the intake could not keep a message from " + channel, reply.getException());
        }
        if (!(reply.getMessage().getBody() instanceof IntakeResult)) {
            throw new IllegalStateException("the intake gave no result for a message from " + channel);
        }
        ex.getMessage().setBody(reply.getMessage().getBody());
    }

}
