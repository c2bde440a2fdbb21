package io.metalgate.conductor;

import io.metalgate.driver.api.DriverException;
import io.metalgate.gate.Action;
import io.metalgate.lease.LeaseService;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Moves a lease's machines when the lease moves (domain.md: the lease is what the contract says, the
 * machine lifecycle what the appliance does to the hardware). Every step goes through the gate and the
 * conductor like an operator's: a SUSPENDED lease's machines are powered off (SUSPEND), a TERMINATED
 * one's are powered off and kept (RETAIN), a reinstated lease's suspended machines come back (REINSTATE,
 * powered on), an ACTIVE lease's available machines start deploying (DEPLOY). A refusal or a BMC failure
 * is recorded with the machine (gate.decided, bmc.*) and tried again by the periodic round, which also
 * catches up after a crash between a lease event and its machines.
 */
@ApplicationScoped
public class LeaseFollower {

    private static final Logger LOG = Logger.getLogger(LeaseFollower.class);
    static final String ACTOR = "system:lease-follower";

    /** The machines whose lifecycle lags behind their data lease's state, and which step catches them up. */
    private static final String OUT_OF_STEP = "SELECT m.id, m.lifecycle_state, l.id AS lease_id, l.state AS lease_state FROM machine m "
            + "JOIN lease l ON l.id = m.data_lease_id WHERE (cardinality($1::uuid[]) = 0 OR l.id = ANY($1)) AND ("
            + "(l.state = 'ACTIVE' AND m.lifecycle_state IN ('AVAILABLE', 'SUSPENDED')) "
            + "OR (l.state = 'SUSPENDED' AND m.lifecycle_state = 'ACTIVE') "
            + "OR (l.state IN ('TERMINATED', 'CLOSED') AND m.lifecycle_state IN ('ACTIVE', 'SUSPENDED'))) ORDER BY m.id";

    @Inject
    Pool pool;
    @Inject
    ActionService actions;
    @Inject
    MachineTasks tasks;
    @Inject
    BmcIntents intents;
    @Inject
    io.metalgate.common.MetalgateConfig config;

    void onLeaseTransitioned(@ObservesAsync LeaseService.LeaseTransitioned event) {
        follow(List.of(event.leaseId())).subscribe().with(n -> LOG.debugf("lease %s: %d machine(s) followed", event.leaseId(), n),
                e -> LOG.warnf("following lease %s failed: %s", event.leaseId(), e.toString()));
    }

    @Scheduled(every = "${metalgate.lease-follow.interval:300s}", delayed = "30s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return follow(List.of()).onFailure().invoke(e -> LOG.warnf("following leases failed: %s", e.toString())).onFailure().recoverWithNull()
                .replaceWithVoid();
    }

    /** Catches up the machines of {@code leases} (all leases when empty); how many steps were taken. */
    public Uni<Integer> follow(List<UUID> leases) {
        return pool.preparedQuery(OUT_OF_STEP).execute(Tuple.of(leases.toArray(new UUID[0]))).chain(rows -> {
            List<Row> todo = new ArrayList<>();
            rows.forEach(todo::add);
            // as many machines at once as their BMCs answer in time (a bulk plan's limits: BulkPlans.actionLimits)
            return io.metalgate.common.AdaptiveConcurrency.run(todo, this::step, s -> s == Step.TIMED_OUT,
                    BulkPlans.actionLimits(config.conductor().actionConcurrency()))
                    .map(run -> (int) run.results().stream().filter(s -> s == Step.TAKEN).count());
        });
    }

    /** What one machine's step came to; TIMED_OUT: its BMC did not answer in time (asked again once the pressure is off). */
    enum Step {
        TAKEN, NOT_TAKEN, TIMED_OUT
    }

    private Uni<Step> step(Row r) {
        UUID machine = r.getUUID("id");
        UUID leaseId = r.getUUID("lease_id");
        LifecycleState state = LifecycleState.valueOf(r.getString("lifecycle_state"));
        String lease = r.getString("lease_state");
        Uni<Boolean> step;
        if (lease.equals("ACTIVE") && state == LifecycleState.AVAILABLE) {
            // a medium left in the machine before its lease would boot under the tenant's data: ejected first
            step = fire(machine, leaseId, MachineLifecycle.Event.DEPLOY, "its lease is ACTIVE")
                    .chain(intent -> intent == null ? Uni.createFrom().item(false) : intent.equals(machine) ? Uni.createFrom().item(true)
                            : intents.drive(intent, ACTOR).replaceWith(true).onFailure().recoverWithItem(true));
        } else if (lease.equals("ACTIVE") && state == LifecycleState.SUSPENDED) {
            // back in service: the step and the power-on's intent together, the BMC driven after
            step = fire(machine, leaseId, MachineLifecycle.Event.REINSTATE, "its lease was reinstated")
                    .chain(intent -> intent == null ? Uni.createFrom().item(false)
                            : intents.drive(intent, ACTOR).replaceWith(true).onFailure(DriverException.class).recoverWithItem(true));
        } else {
            // SUSPEND / RETAIN: a power-off through the gate; the conductor fires the step once the BMC did it
            step = actions.execute(machine, Action.POWER_OFF, new ActionService.ActionInput(null, null, null), ACTOR, java.util.Set.of())
                    .replaceWith(true);
        }
        return step.map(taken -> taken ? Step.TAKEN : Step.NOT_TAKEN).onFailure().recoverWithItem(e -> {
            LOG.infof("machine %s of a %s lease not moved: %s", machine, lease, e.getMessage());
            return e instanceof DriverException d && d.kind() == DriverException.Kind.TIMEOUT ? Step.TIMED_OUT : Step.NOT_TAKEN;
        });
    }

    /**
     * Fires {@code event} under the machine's lock if it is still due there: the machine still holds this
     * lease's data, the lease is still ACTIVE, and the table has the step. A REINSTATE records the power-on's
     * intent with it. The intent's id (a placeholder id for DEPLOY), or null when nothing was due.
     */
    private Uni<UUID> fire(UUID machine, UUID leaseId, MachineLifecycle.Event event, String reason) {
        return tasks.withLock(machine, m -> m.tx().preparedQuery("SELECT state FROM lease WHERE id = $1").execute(Tuple.of(leaseId))
                .chain(rows -> {
                    boolean due = leaseId.equals(m.dataLeaseId()) && rows.rowCount() == 1
                            && rows.iterator().next().getString("state").equals("ACTIVE") && MachineLifecycle.TABLE.find(m.state(), event).isPresent();
                    if (!due) {
                        return Uni.createFrom().nullItem();
                    }
                    Uni<LifecycleState> fired = tasks.fire(m, event, ACTOR, reason);
                    if (event == MachineLifecycle.Event.REINSTATE) {
                        return fired.chain(() -> intents.record(m, BmcIntents.Operation.POWER_ON, null, ACTOR, reason));
                    }
                    // DEPLOY: Redfish machines have their virtual media ejected (IPMI has none)
                    return fired.chain(() -> m.tx().preparedQuery("SELECT bmc_protocol FROM machine WHERE id = $1").execute(Tuple.of(m.id())))
                            .chain(p -> p.iterator().next().getString("bmc_protocol").equals("REDFISH")
                                    ? intents.record(m, BmcIntents.Operation.MEDIA_EJECT, BmcOperations.Params.NONE, null, ACTOR,
                                            "a lease starts: no medium stays inserted")
                                    : Uni.createFrom().item(m.id()));
                }));
    }
}
