package io.metalgate.conductor;

import io.metalgate.common.AdaptiveConcurrency;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.PowerState;
import io.metalgate.driver.redfish.RedfishClient;
import io.metalgate.driver.redfish.RedfishDriver;
import io.metalgate.evidence.AuditLog;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Keeps every machine's observed power state fresh: a sweep asks every BMC (Redfish and IPMI) at once (bounded only
 * by {@code metalgate.power-sync.concurrency}; the client keeps its per-BMC connection limit), stores what each answered or
 * why it did not, and audits what needs a human: a machine that should be off (its lease suspended or
 * terminated, its data held) found on — once when the drift starts, not on every sweep — a certificate
 * pinned on first use, and a certificate that changed (refused).
 */
@ApplicationScoped
public class PowerSync {

    private static final Logger LOG = Logger.getLogger(PowerSync.class);


    /** Lifecycle states in which a machine must be off: powered off by a gate-allowed action, data at rest. */
    static final Set<String> MUST_BE_OFF = Set.of("SUSPENDED", "RETAINED");
    /** A tenant's server in service that is found off was switched off behind the appliance's back (or through a twin). */
    static final Set<String> MUST_BE_ON = Set.of("ACTIVE");

    /** What one BMC answered in a sweep. */
    public record Observation(BmcEndpoint bmc, PowerState state, DriverException error) {
        public boolean ok() {
            return error == null;
        }
    }

    @Inject
    io.micrometer.core.instrument.MeterRegistry metrics;
    @Inject
    RedfishDriver redfish;
    @Inject
    RedfishClient client;
    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    BmcEndpoints endpoints;
    @Inject
    MetalgateConfig config;
    @Inject
    jakarta.enterprise.inject.Instance<PowerEvents> events;
    @Inject
    Drivers drivers;

    /** Asks every Redfish BMC for its power state, all at once; every BMC gets an observation, answered or failed. */
    public Uni<List<Observation>> sweep(List<BmcEndpoint> bmcs) {
        return sweep(bmcs, b -> redfish);
    }

    /**
     * Asks every BMC, each through its protocol's driver, with as many in flight as the BMCs answer in time
     * ({@link AdaptiveConcurrency}, up to {@code power-sync.concurrency}); a BMC that timed out under the
     * sweep's pressure is asked once more after it, so slow but healthy BMCs are read, not reported TIMEOUT.
     */
    Uni<List<Observation>> sweep(List<BmcEndpoint> bmcs, java.util.function.Function<BmcEndpoint, io.metalgate.driver.api.Interfaces.Power> driver) {
        int max = Math.max(1, config.powerSync().concurrency());
        return AdaptiveConcurrency.run(bmcs, b -> driver.apply(b).powerState(b).map(s -> new Observation(b, s, null))
                .onFailure(DriverException.class).recoverWithItem(e -> new Observation(b, null, (DriverException) e))
                .onFailure().recoverWithItem(e -> new Observation(b, null, new DriverException(DriverException.Kind.BMC_ERROR, 0,
                        b + ": " + e, e))),
                o -> !o.ok() && o.error().kind() == DriverException.Kind.TIMEOUT,
                new AdaptiveConcurrency.Limits(Math.min(32, max), Math.min(4, max), max))
                .invoke(run -> {
                    if (run.stats().retried() > 0 || LOG.isDebugEnabled()) {
                        LOG.infof("power sweep of %d BMCs: concurrency %d..%d (ended at %d), %d asked again after a timeout",
                                bmcs.size(), run.stats().lowestLimit(), run.stats().highestLimit(), run.stats().finalLimit(),
                                run.stats().retried());
                    }
                })
                .map(AdaptiveConcurrency.Run::results);
    }

    @Scheduled(every = "${metalgate.power-sync.interval:60s}", delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        if (!config.powerSync().enabled()) {
            return Uni.createFrom().voidItem();
        }
        return syncAll().onFailure().invoke(e -> LOG.warn("power sync failed: " + e.getMessage())).onFailure().recoverWithNull().replaceWithVoid();
    }

    /** One sweep of every machine (Redfish and IPMI), its results stored and its alarms audited; returns the observations. */
    public Uni<List<Observation>> syncAll() {
        io.micrometer.core.instrument.Timer.Sample sample = io.micrometer.core.instrument.Timer.start(metrics);
        return sync(List.of()).onItemOrFailure().invoke((obs, failure) -> sample.stop(metrics.timer("metalgate_power_sweep", "outcome",
                failure == null ? "ok" : "failed")));
    }

    /** A sweep of the given machines (all of them when {@code only} is empty). */
    public Uni<List<Observation>> sync(List<UUID> only) {
        return pool.preparedQuery("SELECT " + BmcEndpoints.COLUMNS + ", lifecycle_state, power_drift, "
                + "power_error, bmc_event_subscription FROM machine WHERE (cardinality($1::uuid[]) = 0 OR id = ANY($1))")
                .execute(Tuple.of(only.toArray(new UUID[0]))).chain(rows -> {
                    List<BmcEndpoint> bmcs = new ArrayList<>();
                    Map<UUID, Row> byId = new LinkedHashMap<>();
                    for (Row r : rows) {
                        byId.put(r.getUUID("id"), r);
                        bmcs.add(endpoints.of(r));
                    }
                    return sweep(bmcs, b -> drivers.of(io.metalgate.machine.BmcProtocol.valueOf(byId.get(b.machineId()).getString("bmc_protocol"))))
                            .chain(obs -> record(obs, byId).chain(() -> subscribe(obs, byId)).replaceWith(obs));
                });
    }

    /** An alarm a sweep raises, audited in the transaction that stores the observation. */
    private record Alarm(String action, String subject, Map<String, Object> payload) {
    }

    /**
     * Stores the observations and audits the alarms they raise (drift, a pinned or changed certificate) in
     * one transaction: an observation and its alarm commit together or not at all.
     */
    private Uni<Void> record(List<Observation> observations, Map<UUID, Row> machines) {
        Instant now = Instant.now();
        List<Tuple> updates = new ArrayList<>(observations.size());
        List<Alarm> alarms = new ArrayList<>();
        for (Observation o : observations) {
            Row m = machines.get(o.bmc().machineId());
            String lifecycle = m.getString("lifecycle_state");
            boolean mustBeOff = MUST_BE_OFF.contains(lifecycle);
            boolean drift = o.ok() && (o.state() == PowerState.ON && mustBeOff || o.state() == PowerState.OFF && MUST_BE_ON.contains(lifecycle));
            String learned = o.bmc().certificateSha256().isEmpty() ? client.pins().seen(o.bmc().key()).filter(s -> !s.changed())
                    .map(s -> s.presentedSha256()).orElse(null) : null;
            updates.add(Tuple.from(java.util.Arrays.asList(o.bmc().machineId(), o.ok() ? o.state().name() : null,
                    now.atOffset(ZoneOffset.UTC), o.ok() ? null : truncate(o.error().getMessage()), drift, learned)));
            String subject = "machine:" + o.bmc().machineId();
            if (drift && !m.getBoolean("power_drift")) {
                alarms.add(new Alarm("machine.power-drift", subject, Map.of("lifecycleState", lifecycle, "expected", mustBeOff ? "OFF" : "ON",
                        "observed", o.state().name())));
            }
            if (learned != null) {
                alarms.add(new Alarm("bmc.certificate-pinned", subject, Map.of("sha256", learned, "endpoint", o.bmc().key())));
            }
            String before = m.getString("power_error");
            if (!o.ok() && o.error().kind() == DriverException.Kind.CERTIFICATE_CHANGED && (before == null || !before.contains("certificate"))) {
                alarms.add(new Alarm("bmc.certificate-changed", subject, Map.of("endpoint", o.bmc().key(), "detail", o.error().getMessage())));
            }
        }
        if (updates.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return pool.withTransaction(tx -> {
            Uni<Void> done = tx.preparedQuery("UPDATE machine SET power_state = $2, power_checked_at = $3, power_error = $4, "
                    + "power_drift = $5, bmc_tls_fingerprint = COALESCE(bmc_tls_fingerprint, $6) WHERE id = $1").executeBatch(updates)
                    .replaceWithVoid();
            for (Alarm a : alarms) {
                done = done.chain(() -> audit.record(tx, "system", a.action(), a.subject(), a.payload()));
            }
            return done;
        }).call(() -> alarms.isEmpty() ? Uni.createFrom().voidItem() : audit.sequenced());
    }

    /** BMCs that answered and were never asked for an event subscription are asked now (when events are on). */
    private Uni<Void> subscribe(List<Observation> observations, Map<UUID, Row> machines) {
        PowerEvents pe = events.get();
        if (!pe.enabled()) {
            return Uni.createFrom().voidItem();
        }
        List<BmcEndpoint> unasked = observations.stream().filter(Observation::ok)
                .filter(o -> machines.get(o.bmc().machineId()).getString("bmc_protocol").equals("REDFISH"))
                .filter(o -> machines.get(o.bmc().machineId()).getString("bmc_event_subscription") == null).map(Observation::bmc).toList();
        return pe.subscribe(unasked);
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 1000 ? s : s.substring(0, 997) + "...";
    }
}
