package io.metalgate.appliance;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * What a NOC alarms on, as Prometheus gauges in {@code /q/metrics}, read from PostgreSQL every 15 s (a scrape never
 * waits on the database): the audit chain's lag ({@code metalgate_audit_pending} entries recorded but not yet chained,
 * {@code metalgate_audit_pending_oldest_seconds}), {@code metalgate_dead_letters_open} and
 * {@code metalgate_inbound_events_unapplied} (stored, not yet applied: the recovery sweep's work).
 */
@ApplicationScoped
public class OperationalGauges {

    private static final Logger LOG = Logger.getLogger(OperationalGauges.class);

    @Inject
    Pool pool;
    @Inject
    MeterRegistry metrics;

    private final AtomicLong auditPending = new AtomicLong();
    private final AtomicLong auditOldestSeconds = new AtomicLong();
    private final AtomicLong deadLettersOpen = new AtomicLong();
    private final AtomicLong inboundUnapplied = new AtomicLong();

    void register(@Observes StartupEvent start) {
        Gauge.builder("metalgate_audit_pending", auditPending, AtomicLong::get).description("audit entries recorded, not yet chained")
                .register(metrics);
        Gauge.builder("metalgate_audit_pending_oldest_seconds", auditOldestSeconds, AtomicLong::get)
                .description("age of the oldest audit entry not yet chained").register(metrics);
        Gauge.builder("metalgate_dead_letters_open", deadLettersOpen, AtomicLong::get).description("dead letters not replayed")
                .register(metrics);
        Gauge.builder("metalgate_inbound_events_unapplied", inboundUnapplied, AtomicLong::get)
                .description("inbound events stored and not yet applied").register(metrics);
    }

    @Scheduled(every = "15s", delayed = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        return pool.query("SELECT (SELECT count(*) FROM audit_pending) AS pending, (SELECT coalesce(extract(epoch FROM now() - min(occurred_at)), 0) "
                + "FROM audit_pending)::bigint AS oldest, (SELECT count(*) FROM dead_letter WHERE status = 'OPEN') AS dead, "
                + "(SELECT count(*) FROM inbound_event WHERE status = 'RECEIVED') AS unapplied").execute().invoke(rows -> {
                    Row r = rows.iterator().next();
                    auditPending.set(r.getLong("pending"));
                    auditOldestSeconds.set(r.getLong("oldest"));
                    deadLettersOpen.set(r.getLong("dead"));
                    inboundUnapplied.set(r.getLong("unapplied"));
                }).replaceWithVoid().onFailure().invoke(e -> LOG.debugf("operational gauges not refreshed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }
}
