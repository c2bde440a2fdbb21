package io.metalgate.conductor;

import io.metalgate.driver.api.DriverException;
import io.metalgate.evidence.AuditLog;
import io.metalgate.gate.Action;
import io.metalgate.lease.LeaseService;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    private static final String OUT_OF_STEP = "SELECT m.id, m.lifecycle_state, l.state AS lease_state FROM machine m "
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
    BmcPower bmcPower;
    @Inject
    AuditLog audit;

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
            return Multi.createFrom().iterable(todo).onItem().transformToUni(this::step).merge(8).collect().asList()
                    .map(done -> (int) done.stream().filter(Boolean::booleanValue).count());
        });
    }

    private Uni<Boolean> step(Row r) {
        UUID machine = r.getUUID("id");
        LifecycleState state = LifecycleState.valueOf(r.getString("lifecycle_state"));
        String lease = r.getString("lease_state");
        Uni<Boolean> step;
        if (lease.equals("ACTIVE") && state == LifecycleState.AVAILABLE) {
            step = fire(machine, MachineLifecycle.Event.DEPLOY, "its lease is ACTIVE");
        } else if (lease.equals("ACTIVE") && state == LifecycleState.SUSPENDED) {
            step = fire(machine, MachineLifecycle.Event.REINSTATE, "its lease was reinstated").call(ok -> ok ? powerOn(machine)
                    : Uni.createFrom().voidItem());
        } else {
            // SUSPEND / RETAIN: a power-off through the gate; the conductor fires the step once the BMC did it
            step = actions.execute(machine, Action.POWER_OFF, new ActionService.ActionInput(null, null, null), ACTOR, java.util.Set.of())
                    .replaceWith(true);
        }
        return step.onFailure().recoverWithItem(e -> {
            LOG.infof("machine %s of a %s lease not moved: %s", machine, lease, e.getMessage());
            return false;
        });
    }

    private Uni<Boolean> fire(UUID machine, MachineLifecycle.Event event, String reason) {
        return tasks.withLock(machine, m -> MachineLifecycle.TABLE.find(m.state(), event).isEmpty() ? Uni.createFrom().item(false)
                : tasks.fire(m, event, ACTOR, reason).replaceWith(true));
    }

    private Uni<Void> powerOn(UUID machine) {
        return bmcPower.powerOn(machine).chain(how -> audit.append(ACTOR, "bmc.powered-on", "machine:" + machine, Map.of("how", how)))
                .onFailure(DriverException.class).recoverWithUni(e -> audit.append(ACTOR, "bmc.power-on-failed", "machine:" + machine,
                        Map.of("kind", ((DriverException) e).kind().name(), "detail", String.valueOf(e.getMessage()))));
    }
}
