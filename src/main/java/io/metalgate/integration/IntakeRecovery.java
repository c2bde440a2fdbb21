package io.metalgate.integration;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Acts on events that were stored but never acted on: the appliance died between the two, or acting
 * failed unexpectedly (the message is then also a dead letter). At start every such event, then every
 * {@code metalgate.integrations.recovery-interval} those older than half a minute (younger ones are
 * still on their way through the route), in the order they arrived. Applying claims the event's row
 * ({@link LeaseEventIntake#apply}), so a resend or another appliance applying it at the same moment
 * moves the lease once.
 */
@ApplicationScoped
public class IntakeRecovery {

    private static final Logger LOG = Logger.getLogger(IntakeRecovery.class);
    /** Who the recovered transitions are recorded as done by. */
    public static final String ACTOR = "metalgate/intake-recovery";
    private static final int BATCH = 500;

    @Inject
    Pool pool;
    @Inject
    LeaseEventIntake intake;
    @Inject
    ObjectMapper mapper;

    private final AtomicBoolean started = new AtomicBoolean();

    @Scheduled(every = "${metalgate.integrations.recovery-interval:60s}", delayed = "${metalgate.integrations.recovery-delay:2s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        Duration minAge = started.getAndSet(true) ? Duration.ofSeconds(30) : Duration.ZERO;
        return recover(minAge).invoke(n -> {
            if (n > 0) {
                LOG.infof("applied %d lease event(s) that were stored but not acted on", n);
            }
        }).onFailure().invoke(e -> LOG.warnf("recovering lease events failed: %s", e.toString())).onFailure().recoverWithNull()
                .replaceWithVoid();
    }

    /** Applies, in arrival order, the RECEIVED events at least {@code minAge} old; yields how many it applied or rejected. */
    public Uni<Integer> recover(Duration minAge) {
        return pool.preparedQuery("SELECT id, body FROM inbound_event WHERE status = 'RECEIVED' AND received_at <= $1 "
                + "ORDER BY received_at, id LIMIT " + BATCH)
                .execute(Tuple.of(Instant.now().minus(minAge).atOffset(ZoneOffset.UTC)))
                .onItem().transformToMulti(rows -> Multi.createFrom().iterable(rows))
                .onItem().transformToUniAndConcatenate(this::applyOne)
                .collect().asList().map(results -> (int) results.stream().filter(applied -> applied).count());
    }

    private Uni<Boolean> applyOne(Row row) {
        LeaseEvent event;
        try {
            event = mapper.readValue(row.getString("body"), LeaseEvent.class);
        } catch (Exception e) {
            // stored events are their own canonical JSON; one that does not parse is left for a person
            LOG.warnf("stored lease event %s does not parse: %s", row.getUUID("id"), e.toString());
            return Uni.createFrom().item(false);
        }
        return intake.apply(row.getUUID("id"), event, ACTOR).map(r -> r.outcome() != IntakeResult.Outcome.DUPLICATE);
    }
}
