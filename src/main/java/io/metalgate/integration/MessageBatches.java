package io.metalgate.integration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

/**
 * Many messages as they came (a Kafka poll's records, a batch request's elements): those that parse as lease events
 * settled together by {@link BatchIntake}, then everything else, one by one and in order, through the intake route
 * (invalid messages, holds, notes, conflicts: its dead letters and holds). The one place both channels do this; runs
 * on a thread that may wait (a Kafka consumer's, an HTTP worker).
 */
@ApplicationScoped
class MessageBatches {

    /** How long a batch may take before the caller gives up on it (a Kafka poll then comes again). */
    static final Duration TIMEOUT = Duration.ofMinutes(2);

    /**
     * What became of the messages: a result for each, in order, and how many the batch settled; or, when the route
     * could not keep one (not even as a dead letter), {@code refused}: that call's exchange, and the rest not tried.
     */
    record Taken(IntakeResult[] results, int batched, Exchange refused) {
    }

    @Inject
    BatchIntake batch;
    @Inject
    LeaseEventRoutes routes;
    @Inject
    ProducerTemplate camel;

    Taken take(List<String> bodies, String actor, String channel) {
        List<Integer> parsedAt = new ArrayList<>();
        List<LeaseEvent> parsed = new ArrayList<>();
        List<Integer> alone = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            try {
                parsed.add(routes.parse(bodies.get(i) == null ? "" : bodies.get(i)));
                parsedAt.add(i);
            } catch (RuntimeException invalid) {
                alone.add(i); // the route dead-letters it with its reason
            }
        }
        BatchIntake.Outcome outcome = batch.processOrLeave(parsed, actor).await().atMost(TIMEOUT);
        IntakeResult[] results = new IntakeResult[bodies.size()];
        outcome.settled().forEach((j, r) -> results[parsedAt.get(j)] = r);
        outcome.left().forEach(j -> alone.add(parsedAt.get(j)));
        alone.sort(null);
        for (int i : alone) {
            String body = bodies.get(i);
            Exchange reply = camel.request(LeaseEventRoutes.INTAKE, ex -> {
                ex.getMessage().setBody(body == null ? "" : body);
                ex.getMessage().setHeaders(Map.of(LeaseEventRoutes.ACTOR, actor, LeaseEventRoutes.CHANNEL, channel, LeaseEventRoutes.ALONE, true));
            });
            if (reply.getException() != null || !(reply.getMessage().getBody() instanceof IntakeResult r)) {
                return new Taken(results, bodies.size() - alone.size(), reply);
            }
            results[i] = r;
        }
        return new Taken(results, bodies.size() - alone.size(), null);
    }
}
