package io.metalgate.integration;

import io.metalgate.common.MetalgateConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;

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

    @Inject
    MetalgateConfig config;
    @Inject
    ProducerTemplate camel;

    @Override
    public void configure() {
        var kafka = config.integrations().kafka();
        if (kafka.brokers().isPresent()) {
            String channel = "kafka:" + kafka.topic();
            fromF("kafka:%s?brokers=%s&groupId=%s&autoOffsetReset=earliest&autoCommitEnable=false&allowManualCommit=true"
                    + "&breakOnFirstError=true&consumersCount=%d&maxPollRecords=%d", kafka.topic(), kafka.brokers().get(), kafka.groupId(),
                    kafka.consumers(), kafka.maxPollRecords())
                    .routeId("kafka-lease-events")
                    .process(ex -> intake(ex, channel))
                    .process(ex -> ex.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class).commit());
        }
        var mqtt = config.integrations().mqtt();
        if (mqtt.brokerUrl().isPresent()) {
            String channel = "mqtt:" + mqtt.topic();
            StringBuilder uri = new StringBuilder("paho:" + mqtt.topic() + "?brokerUrl=" + enc(mqtt.brokerUrl().get()) + "&clientId="
                    + enc(mqtt.clientId()) + "&qos=1&cleanSession=false&manualAcksEnabled=true&automaticReconnect=true&mqttVersion=4");
            mqtt.userName().ifPresent(u -> uri.append("&userName=").append(enc(u)));
            mqtt.password().ifPresent(p -> uri.append("&password=RAW(").append(p).append(")"));
            from(uri.toString()).routeId("mqtt-lease-events")
                    .process(ex -> intake(ex, channel));
        }
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

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
