package io.metalgate.console;

import io.metalgate.security.Roles;
import io.smallrye.mutiny.Multi;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Live updates for the console: a server-sent event {@code changed} whenever the audit chain grew or a machine's
 * observed power changed. Every change the appliance makes is audited, so the chain's head is the one number that
 * says "something happened"; the page then fetches its own parts again (htmx), so an event carries no data a
 * viewer could not read anyway. One cheap query per connection every {@link #EVERY}.
 */
@Path("/console/live")
@Tag(name = "console")
public class ConsoleLive {

    static final Duration EVERY = Duration.ofSeconds(2);

    @Inject
    Pool pool;
    @Context
    Sse sse;

    @Inject
    io.metalgate.common.MetalgateConfig config;

    // one query every EVERY for all open pages together, not one per page: a hundred NOC screens cost what one does
    private Multi<Long> shared;

    private synchronized Multi<Long> versions() {
        if (shared == null) {
            shared = Multi.createFrom().ticks().startingAfter(EVERY).every(EVERY).onOverflow().drop()
                    .onItem().transformToUniAndConcatenate(tick -> pool.query("SELECT COALESCE((SELECT seq FROM audit_head WHERE id = 1), 0) "
                            + "+ COALESCE((SELECT sum(extract(epoch FROM power_checked_at))::bigint FROM machine "
                            + "WHERE power_checked_at > now() - interval '10 seconds'), 0)")
                            .execute().map(rows -> rows.iterator().next().getLong(0)).onFailure().recoverWithItem(Long.MIN_VALUE))
                    .broadcast().toAllSubscribers();
        }
        return shared;
    }

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "Console: server-sent events, 'changed' when the fleet or the audit log changed")
    public Multi<OutboundSseEvent> live() {
        AtomicLong last = new AtomicLong(Long.MIN_VALUE);
        // a stream lives at most one idle period: the browser then reconnects, which checks the session again (an ended
        // session gets the login redirect instead, and the page stops listening)
        return versions().select().first(config.console().sessionIdle())
                .filter(v -> {
                    long before = last.getAndSet(v);
                    return before != Long.MIN_VALUE && v != Long.MIN_VALUE && before != v; // the page just loaded shows the first value
                })
                .map(v -> sse.newEventBuilder().name("changed").data(Long.toString(v)).build());
    }
}
