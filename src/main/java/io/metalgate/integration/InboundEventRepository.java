package io.metalgate.integration;

import io.vertx.core.Context;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import org.apache.camel.spi.IdempotentRepository;

/**
 * Camel's idempotent repository for inbound events, kept in PostgreSQL: the {@code inbound_event} table
 * itself. An event's key ({@link #key}: source and external id) is known once the event is stored, and
 * stays known: an event is never forgotten, so {@link #remove} and {@link #clear} change nothing, and
 * {@link #add} (called by the route when an exchange completes, the consumer is not eager) has nothing
 * left to write. Keeping the key in the event's own row, not a second table, means "stored" and "seen"
 * can never disagree after a crash: an event stored but not yet acted on is a duplicate on resend, and
 * the duplicate path acts on it (as does {@link IntakeRecovery} at start).
 *
 * <p>Camel asks {@link #contains} synchronously. The route calls it on the thread that delivered the
 * message (an HTTP worker, a broker consumer), never on a Vert.x event loop (refused below), before any
 * asynchronous step; the query is one index lookup, bounded by a timeout.
 */
@ApplicationScoped
public class InboundEventRepository implements IdempotentRepository {

    private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(10);

    @Inject
    Pool pool;

    /** The key of an event: its source and external id (a source is printable: it holds no newline). */
    public static String key(String source, String externalId) {
        return source + "\n" + externalId;
    }

    private final java.util.concurrent.atomic.AtomicLong refusedOnEventLoop = new java.util.concurrent.atomic.AtomicLong();

    /** Lookups refused because they came on an event loop (a route that continued on the wrong thread; tests watch it). */
    long refusedOnEventLoop() {
        return refusedOnEventLoop.get();
    }

    @Override
    public boolean contains(String key) {
        if (Context.isOnEventLoopThread()) {
            refusedOnEventLoop.incrementAndGet();
            throw new IllegalStateException("the idempotent repository is asked on an event loop thread");
        }
        int cut = key.indexOf('\n');
        if (cut < 0) {
            return false;
        }
        return pool.preparedQuery("SELECT 1 FROM inbound_event WHERE source = $1 AND external_id = $2")
                .execute(Tuple.of(key.substring(0, cut), key.substring(cut + 1))).map(rows -> rows.size() > 0)
                .await().atMost(LOOKUP_TIMEOUT);
    }

    /** The event's row is its key: written by the intake's store step, before the exchange completes. */
    @Override
    public boolean add(String key) {
        return true;
    }

    /** Events are never forgotten (a failed exchange's event stays stored; a resend acts on it). */
    @Override
    public boolean remove(String key) {
        return false;
    }

    @Override
    public boolean confirm(String key) {
        return true;
    }

    @Override
    public void clear() {
        // events are evidence: a repository of them is never cleared
    }

    @Override
    public void start() {
    }

    @Override
    public void stop() {
    }
}
