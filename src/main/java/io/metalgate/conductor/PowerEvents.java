package io.metalgate.conductor;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.redfish.RedfishDriver;
import io.metalgate.security.SecretCipher;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Power events pushed by BMCs (Redfish EventService), so a machine switched on behind the appliance's back
 * is seen at once, not at the next sweep. Each BMC that answers a sweep and has not been asked yet is
 * subscribed to {@code metalgate.redfish.event-destination}{@code /api/redfish-events/<machine>} with a
 * Context only this appliance can make (a keyed tag of the machine id). An event is only a hint: it
 * triggers a power sync of that machine, which asks the BMC itself — an event's content is never trusted.
 */
@ApplicationScoped
public class PowerEvents {

    private static final Logger LOG = Logger.getLogger(PowerEvents.class);
    static final String TAG_PURPOSE = "redfish-event-context";
    /** Subscriptions asked for at once after a sweep. */
    static final int CONCURRENCY = 64;

    @Inject
    MetalgateConfig config;
    @Inject
    RedfishDriver redfish;
    @Inject
    SecretCipher cipher;
    @Inject
    Pool pool;
    @Inject
    PowerSync sync;
    @Inject
    io.metalgate.evidence.AuditLog audit;

    private volatile Optional<String> destination;

    @jakarta.annotation.PostConstruct
    void init() {
        destination = config.redfish().eventDestination().map(d -> d.replaceAll("/+$", ""));
    }

    /** Tests point BMCs at the random port the test server got (config cannot know it beforehand). */
    void useDestination(Optional<String> base) {
        destination = base;
    }

    public boolean enabled() {
        return destination.isPresent();
    }

    String context(UUID machine) {
        return cipher.tag(TAG_PURPOSE, machine.toString());
    }

    /** Subscribes each of these BMCs (answered a sweep, never asked before); stores the subscription or 'none'. */
    Uni<Void> subscribe(List<BmcEndpoint> bmcs) {
        if (!enabled() || bmcs.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        String base = destination.get();
        return Multi.createFrom().iterable(bmcs).onItem().transformToUni(b -> redfish.subscribe(b, base + "/api/redfish-events/"
                        + b.machineId(), context(b.machineId()))
                        .chain(sub -> pool.withTransaction(tx -> tx.preparedQuery("UPDATE machine SET bmc_event_subscription = $2 WHERE id = $1")
                                .execute(Tuple.of(b.machineId(), sub.orElse("none")))
                                .chain(() -> audit.record(tx, "system", "bmc.events-subscribed", "machine:" + b.machineId(),
                                        java.util.Map.of("subscription", sub.orElse("none"), "destination", base)))))
                        // not subscribed this time: asked again after the next sweep; polling covers it meanwhile
                        .onFailure().invoke(e -> LOG.debugf("no event subscription for %s: %s", b, e.getMessage()))
                        .onFailure().recoverWithNull())
                .merge(CONCURRENCY).collect().asList().replaceWithVoid();
    }

    /**
     * An event from the BMC of {@code machine}: if its Context is ours, refreshes that machine's power state
     * (in the background: the BMC gets its answer at once). False when the Context is not ours.
     */
    public boolean received(UUID machine, Optional<String> context) {
        if (context.isEmpty() || !cipher.verifyTag(TAG_PURPOSE, machine.toString(), context.get())) {
            return false;
        }
        // audited (an accepted event is evidence that the BMC saw a change), then only a hint: the BMC is asked itself
        audit.append("system", "bmc.event-received", "machine:" + machine, java.util.Map.of("context", "ours"))
                .chain(() -> sync.sync(List.of(machine))).subscribe().with(obs -> {
        }, e -> LOG.warnf("power refresh after an event from %s failed: %s", machine, e.getMessage()));
        return true;
    }
}
