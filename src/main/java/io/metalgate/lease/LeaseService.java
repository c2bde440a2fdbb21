package io.metalgate.lease;

import io.metalgate.common.ApiException;
import io.metalgate.common.ChangeSet;
import io.metalgate.common.PageView;
import io.metalgate.common.StateTransitionLog;
import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.LeaseApi.LeaseCreate;
import io.metalgate.lease.LeaseApi.LeaseUpdate;
import io.metalgate.lease.LeaseApi.LeaseView;
import io.metalgate.lease.LeaseApi.LeasedMachine;
import io.metalgate.machine.Machine;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** Leases and the machines in them; every change audited in its transaction. */
@ApplicationScoped
public class LeaseService {

    @Inject
    AuditLog audit;
    @Inject
    jakarta.enterprise.event.Event<LeaseTransitioned> transitioned;

    /** A lease moved to {@code to}; fired once the transaction that moved it committed. */
    public record LeaseTransitioned(UUID leaseId, LeaseState to) {
    }

    @WithTransaction
    public Uni<LeaseView> create(LeaseCreate req, String actor) {
        checkDates(req.startsAt(), req.endsAt());
        List<UUID> machineIds = req.machineIds() == null ? List.of() : List.copyOf(new LinkedHashSet<>(req.machineIds()));
        return Tenant.<Tenant>findById(req.tenantId()).chain(tenant -> {
            if (tenant == null) {
                throw ApiException.badRequest("tenantId", "no tenant " + req.tenantId());
            }
            return requireMachines(machineIds);
        }).chain(machines -> {
            Lease l = new Lease();
            l.id = UUID.randomUUID();
            l.tenantId = req.tenantId();
            l.externalRef = req.externalRef();
            l.state = LeaseState.PENDING;
            l.startsAt = micros(req.startsAt());
            l.endsAt = micros(req.endsAt());
            l.createdAt = micros(Instant.now());
            l.updatedAt = l.createdAt;
            List<LeaseMachine> links = machineIds.stream().map(m -> LeaseMachine.of(l.id, m)).toList();
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("tenantId", l.tenantId.toString());
            payload.put("externalRef", l.externalRef);
            payload.put("state", l.state.name());
            payload.put("startsAt", str(l.startsAt));
            payload.put("endsAt", str(l.endsAt));
            payload.put("machineIds", machineIds.stream().map(UUID::toString).toList());
            return l.<Lease>persist().call(Panache::flush)
                    .call(() -> join(l, machineIds, actor))
                    .call(() -> links.isEmpty() ? Uni.createFrom().voidItem() : LeaseMachine.persist(links))
                    .call(Panache::flush)
                    .call(() -> audit.record(actor, "lease.created", l.subject(), payload))
                    .map(v -> view(l, machines));
        });
    }

    @WithSession
    public Uni<LeaseView> get(UUID id) {
        return Lease.<Lease>findById(id).chain(l -> views(List.of(require(l, id)))).map(list -> list.get(0));
    }

    @WithSession
    public Uni<PageView<LeaseView>> list(UUID tenantId, LeaseState state, int page, int size) {
        List<String> where = new ArrayList<>();
        Map<String, Object> params = new HashMap<>();
        if (tenantId != null) {
            where.add("tenantId = :tenant");
            params.put("tenant", tenantId);
        }
        if (state != null) {
            where.add("state = :state");
            params.put("state", state);
        }
        return PageView.fetch(Lease.<Lease>find(String.join(" and ", where), Sort.by("createdAt").and("id"), params), page, size,
                this::views);
    }

    @WithTransaction
    public Uni<LeaseView> update(UUID id, LeaseUpdate req, String actor) {
        return Lease.<Lease>findById(id).chain(found -> {
            Lease l = require(found, id);
            ChangeSet changes = new ChangeSet();
            Instant starts = changes.apply("startsAt", l.startsAt, micros(req.startsAt()));
            Instant ends = changes.apply("endsAt", l.endsAt, micros(req.endsAt()));
            checkDates(starts, ends);
            l.startsAt = starts;
            l.endsAt = ends;
            if (changes.isEmpty()) {
                return get(id);
            }
            l.updatedAt = micros(Instant.now());
            return Panache.flush().call(() -> audit.record(actor, "lease.updated", l.subject(), changes.asPayload()))
                    .chain(v -> views(List.of(l))).map(list -> list.get(0));
        });
    }

    @WithTransaction
    public Uni<LeaseView> addMachines(UUID id, List<UUID> requested, String actor, boolean billing) {
        List<UUID> machineIds = List.copyOf(new LinkedHashSet<>(requested));
        return Lease.<Lease>findById(id, jakarta.persistence.LockModeType.PESSIMISTIC_WRITE).chain(found -> {
            Lease l = require(found, id);
            if (l.state == LeaseState.TERMINATED || l.state == LeaseState.CLOSED) {
                throw ApiException.conflict("lease " + id + " is " + l.state + "; machines join only a lease that has not ended", "state");
            }
            if (l.state != LeaseState.PENDING && !billing) {
                // machines joining a running lease are deployed for the tenant at once: a change of the contract (billing's,
                // like the start of the lease), else one operator could grow a tenant's fleet under the blast-radius share
                throw new ApiException(io.metalgate.common.Problem.of(403, "forbidden", "Forbidden", "lease " + id + " is " + l.state
                        + ": machines join a started lease through billing (the system of record); an operator adds them while it is PENDING"));
            }
            return requireMachines(machineIds)
                    .call(ms -> join(l, machineIds, actor))
                    .chain(ms -> LeaseMachine.persist(machineIds.stream().map(m -> LeaseMachine.of(l.id, m)).toList()))
                    .call(Panache::flush)
                    .call(() -> audit.record(actor, "lease.machines-added", l.subject(),
                            Map.of("machineIds", machineIds.stream().map(UUID::toString).toList())))
                    .chain(v -> views(List.of(l))).map(list -> list.get(0));
        });
    }

    /**
     * Removes a machine from its lease. The machine keeps the facts of whose data it holds (its tenant, its
     * lease, that it was leased since its last erase), so the holds, notices, retention and lease state that
     * protect that data still apply to it; only a verified erase clears them. The one exception is a lease
     * that never started (PENDING): the machine never held its data, and goes back to what it was.
     */
    @WithTransaction
    public Uni<LeaseView> removeMachine(UUID id, UUID machineId, String actor) {
        return Lease.<Lease>findById(id, jakarta.persistence.LockModeType.PESSIMISTIC_WRITE).chain(found -> {
            Lease l = require(found, id);
            return lockMachines(List.of(machineId)).chain(locked -> LeaseMachine.delete("id.leaseId = ?1 and id.machineId = ?2", l.id, machineId))
                    .chain(n -> {
                        if (n == 0) {
                            throw ApiException.notFound("machine " + machineId + " in lease", l.id);
                        }
                        boolean neverStarted = l.state == LeaseState.PENDING;
                        Map<String, Object> payload = new LinkedHashMap<>();
                        payload.put("machineIds", List.of(machineId.toString()));
                        payload.put("dataKept", !neverStarted);
                        payload.put("dataTenantId", neverStarted ? null : l.tenantId.toString());
                        payload.put("detail", neverStarted ? "the lease never started: the machine held none of its data"
                                : "the machine still holds this lease's data: its holds, notices, retention and lease state still apply until a verified erase");
                        Uni<Integer> custody = Panache.getSession().chain(s -> neverStarted
                                ? s.createNativeQuery("UPDATE machine SET data_tenant_id = NULL, data_lease_id = NULL, leased_since_erase = false, "
                                        + "version = version + 1 WHERE id = :m AND data_lease_id = :l").setParameter("m", machineId).setParameter("l", l.id)
                                        .executeUpdate()
                                        .chain(() -> leftCustody(s, machineId, l.id, true))
                                : leftCustody(s, machineId, l.id, false));
                        return custody.chain(() -> audit.record(actor, "lease.machines-removed", l.subject(), payload))
                                .chain(() -> audit.record(actor, "lease.machines-removed", "machine:" + machineId, payload));
                    }).chain(v -> views(List.of(l))).map(list -> list.get(0));
        });
    }

    /** The machine's custody record of the lease says when it left (the record itself stays: evidence follows the data). */
    private static Uni<Integer> leftCustody(org.hibernate.reactive.mutiny.Mutiny.Session s, UUID machineId, UUID leaseId,
            boolean neverStarted) {
        return s.createNativeQuery("UPDATE machine_custody SET left_at = :t, never_started = :n WHERE machine_id = :m AND lease_id = :l")
                .setParameter("t", java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC)).setParameter("n", neverStarted)
                .setParameter("m", machineId).setParameter("l", leaseId).executeUpdate();
    }

    /**
     * Machines joining lease {@code l} (their locks taken first): each must hold no other lease's data (a
     * machine leased since its last erase joins another lease only after a verified erase and reassignment),
     * and must not be in service or on its way out. Sets the data facts and the custody record.
     */
    private Uni<Void> join(Lease l, List<UUID> machineIds, String actor) {
        if (machineIds.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return lockMachines(machineIds).chain(rows -> {
            List<String> refusals = new ArrayList<>();
            for (Object[] r : rows) {
                UUID m = (UUID) r[0];
                String state = (String) r[1];
                UUID dataLease = (UUID) r[2];
                if (dataLease != null && !dataLease.equals(l.id)) {
                    refusals.add("machine " + m + " holds the data of lease " + dataLease + " (tenant " + r[3]
                            + "); it joins another lease only after a verified erase and reassignment");
                } else if (dataLease == null && !JOINABLE.contains(state)) {
                    refusals.add("machine " + m + " is " + state + "; a machine joins a lease from " + JOINABLE);
                }
            }
            if (!refusals.isEmpty()) {
                return audit.append(actor, "lease.machines-refused", l.subject(), Map.of("refusals", refusals)).map(v -> {
                    throw new ApiException(io.metalgate.common.Problem.of(409, "machine-holds-data", "Machine not free",
                            String.join("; ", refusals)).withErrors(List.of(new io.metalgate.common.Problem.FieldError("machineIds",
                                    refusals.size() + " machine(s) cannot join"))));
                });
            }
            return Panache.getSession().chain(s -> s.createNativeQuery("UPDATE machine SET data_tenant_id = :t, data_lease_id = :l, "
                    + "leased_since_erase = true, version = version + 1 WHERE id IN (:ids)").setParameter("t", l.tenantId).setParameter("l", l.id)
                    .setParameter("ids", machineIds).executeUpdate()
                    .chain(() -> s.createNativeQuery("INSERT INTO machine_custody (machine_id, lease_id, tenant_id, since) SELECT m, :l, :t, :at "
                            + "FROM unnest(CAST(:ids AS uuid[])) AS m ON CONFLICT (machine_id, lease_id) DO UPDATE SET left_at = NULL")
                            .setParameter("l", l.id).setParameter("t", l.tenantId).setParameter("at", java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC))
                            .setParameter("ids", machineIds.toArray(new UUID[0])).executeUpdate()))
                    .replaceWithVoid();
        });
    }

    /** States from which a machine holding no one's data may join a lease (not in service, not being erased or retired). */
    // VERIFY_FAILED too: a BMC unreachable at enrolment (e.g. racked before its network) does not keep a machine out of a lease
    static final Set<String> JOINABLE = Set.of("ENROLLED", "VERIFYING", "VERIFY_FAILED", "MANAGEABLE", "INSPECTING", "AVAILABLE");

    /** Locks the machines' rows (in id order, so two lockers never deadlock): id, state, data lease, data tenant. */
    private static Uni<List<Object[]>> lockMachines(List<UUID> ids) {
        return Panache.getSession().chain(s -> s.createNativeQuery("SELECT id, lifecycle_state, data_lease_id, data_tenant_id FROM machine "
                + "WHERE id IN (:ids) ORDER BY id FOR UPDATE", Object[].class).setParameter("ids", ids).getResultList());
    }

    /** Locks every machine holding lease {@code leaseId}'s data (a lease event changes a fact the gate reads about each). */
    private static Uni<Void> lockLeaseMachines(UUID leaseId) {
        return Panache.getSession().chain(s -> s.createNativeQuery("SELECT id FROM machine WHERE data_lease_id = :l ORDER BY id FOR UPDATE",
                Object.class).setParameter("l", leaseId).getResultList()).replaceWithVoid();
    }

    /**
     * After machines joined a started lease (committed): the conductor follows the lease at once, deploying them, rather
     * than at its next round (the follower reads where the lease's machines lag behind its state, whatever moved).
     */
    public void joinedStarted(LeaseView v) {
        if (v.state() != LeaseState.PENDING) {
            transitioned.fireAsync(new LeaseTransitioned(v.id(), v.state()));
        }
    }

    /**
     * Moves a lease by the transition table: persisted (lease + state_transition row) and audited in one
     * transaction. An event the current state does not allow is a 409 naming the events it does allow.
     */
    public Uni<LeaseView> fire(UUID id, LeaseLifecycle.Event event, String reason, String actor) {
        // after the commit, the conductor moves the lease's machines (conductor.LeaseFollower)
        return Panache.withTransaction(() -> fireStep(id, event, reason, actor))
                .invoke(v -> transitioned.fireAsync(new LeaseTransitioned(v.id(), v.state())));
    }

    private Uni<LeaseView> fireStep(UUID id, LeaseLifecycle.Event event, String reason, String actor) {
        // the lease's row first, then its machines' (every lease change takes them in this order)
        return Lease.<Lease>findById(id, jakarta.persistence.LockModeType.PESSIMISTIC_WRITE).chain(() -> lockLeaseMachines(id))
                .chain(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                "SELECT count(*) FROM machine WHERE data_lease_id = :l", Long.class).setParameter("l", id).getSingleResult()))
                .chain(holdingData -> Lease.<Lease>findById(id).map(found -> new Object[] { found, holdingData }))
                .chain(found -> {
            Lease l = require((Lease) found[0], id);
            long holdingData = (Long) found[1];
            var row = transition(l.state, event, holdingData);
            LeaseState from = l.state;
            Instant now = micros(Instant.now());
            l.state = row.to();
            l.updatedAt = now;
            if (row.to() == LeaseState.TERMINATED) {
                l.terminatedAt = now;
            }
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("from", from.name());
            payload.put("event", event.name());
            payload.put("to", row.to().name());
            payload.put("reason", reason);
            return Panache.flush()
                    .chain(() -> StateTransitionLog.record(StateTransitionLog.SubjectType.LEASE, l.id, from.name(), event.name(),
                            row.to().name(), actor, reason, now))
                    .call(() -> audit.record(actor, "lease.transitioned", l.subject(), payload))
                    .chain(v -> views(List.of(l))).map(list -> list.get(0));
        });
    }

    /**
     * The transition table's row for {@code event} in {@code state} whose guard holds with {@code holdingData} machines
     * still holding the lease's data; otherwise the 409 that names the events the state allows, or the guard. Pure:
     * the one place both the API's path and the intake's batches ({@code integration.BatchIntake}) decide a move.
     */
    public static io.metalgate.common.Transitions.Row<LeaseState, LeaseLifecycle.Event, LeaseLifecycle.Context> transition(LeaseState state,
            LeaseLifecycle.Event event, long holdingData) {
        var row = LeaseLifecycle.TABLE.find(state, event).orElseThrow(() -> new ApiException(io.metalgate.common.Problem
                .of(409, "illegal-transition", "Illegal transition", "a " + state + " lease does not accept " + event)
                .withErrors(List.of(new io.metalgate.common.Problem.FieldError("event", "not allowed in " + state)))
                .withAllowedEvents(LeaseLifecycle.TABLE.allowedEvents(state).stream().map(Enum::name).toList())));
        if (!row.allows(new LeaseLifecycle.Context(holdingData))) {
            throw new ApiException(io.metalgate.common.Problem.of(409, "guard-failed", "Guard does not hold", "a " + state
                    + " lease is " + row.to() + " only when " + row.guard() + ": " + holdingData + " machine(s) still hold its data")
                    .withErrors(List.of(new io.metalgate.common.Problem.FieldError("event", row.guard()))));
        }
        return row;
    }

    /** {@link #fire} for the lease with this external reference (billing's name for it). */
    public Uni<LeaseView> fireByExternalRef(String externalRef, LeaseLifecycle.Event event, String reason, String actor) {
        return Panache.withSession(() -> Lease.<Lease>find("externalRef", externalRef).firstResult())
                .chain(l -> {
                    if (l == null) {
                        throw ApiException.notFound("lease with external reference", externalRef);
                    }
                    return fire(l.id, event, reason, actor);
                });
    }

    /**
     * {@link #fireByExternalRef}, in one transaction with {@code claim}, which runs first: an inbound event
     * claims its own row there (locking it), so it moves its lease exactly once even when a resend and the
     * recovery sweep apply it at the same moment, and a transition that fails leaves it unclaimed. When the
     * claim yields false (already applied), nothing fires and the Uni yields null.
     */
    public Uni<LeaseView> fireClaimed(String externalRef, LeaseLifecycle.Event event, String reason, String actor,
            java.util.function.Supplier<Uni<Boolean>> claim) {
        return Panache.withTransaction(() -> claim.get().chain(claimed -> !claimed ? Uni.createFrom().<LeaseView> nullItem()
                : Lease.<Lease>find("externalRef", externalRef).firstResult().chain(l -> {
                    if (l == null) {
                        throw ApiException.notFound("lease with external reference", externalRef);
                    }
                    return fireStep(l.id, event, reason, actor);
                })))
                .invoke(v -> {
                    if (v != null) {
                        transitioned.fireAsync(new LeaseTransitioned(v.id(), v.state()));
                    }
                });
    }

    /** Only a lease that never started may be deleted; others are evidence and end through the lifecycle. */
    @WithTransaction
    public Uni<Void> delete(UUID id, String actor) {
        return Lease.<Lease>findById(id, jakarta.persistence.LockModeType.PESSIMISTIC_WRITE).chain(found -> {
            Lease l = require(found, id);
            if (l.state != LeaseState.PENDING) {
                throw ApiException.conflict("lease " + id + " is " + l.state + "; only a PENDING lease can be deleted", "state");
            }
            return Panache.getSession().chain(s -> s.createNativeQuery("UPDATE machine SET data_tenant_id = NULL, data_lease_id = NULL, "
                    + "leased_since_erase = false, version = version + 1 WHERE data_lease_id = :l").setParameter("l", l.id).executeUpdate()
                    .chain(() -> s.createNativeQuery("UPDATE machine_custody SET left_at = now(), never_started = true WHERE lease_id = :l AND left_at IS NULL")
                            .setParameter("l", l.id).executeUpdate()))
                    .chain(() -> l.delete()).call(Panache::flush)
                    .call(() -> audit.record(actor, "lease.deleted", l.subject(), Map.of("externalRef", l.externalRef)));
        });
    }

    private Uni<List<Machine>> requireMachines(List<UUID> ids) {
        if (ids.isEmpty()) {
            return Uni.createFrom().item(List.of());
        }
        return Machine.<Machine>list("id in ?1", ids).map(found -> {
            Set<UUID> missing = new LinkedHashSet<>(ids);
            found.forEach(m -> missing.remove(m.id));
            if (!missing.isEmpty()) {
                throw ApiException.badRequest("machineIds", "no such machines: " + missing);
            }
            return found;
        });
    }

    /** Views with their machines, two queries for any number of leases. */
    private Uni<List<LeaseView>> views(List<Lease> leases) {
        if (leases.isEmpty()) {
            return Uni.createFrom().item(List.of());
        }
        List<UUID> ids = leases.stream().map(l -> l.id).toList();
        return Panache.getSession().chain(s -> s.createQuery(
                "select lm.id.leaseId, m from LeaseMachine lm, Machine m where m.id = lm.id.machineId and lm.id.leaseId in :ids "
                        + "order by m.name", Object[].class)
                .setParameter("ids", ids).getResultList())
                .map(rows -> {
                    Map<UUID, List<Machine>> byLease = new HashMap<>();
                    for (Object[] row : rows) {
                        byLease.computeIfAbsent((UUID) row[0], k -> new ArrayList<>()).add((Machine) row[1]);
                    }
                    return leases.stream().map(l -> view(l, byLease.getOrDefault(l.id, List.of()))).toList();
                });
    }

    private static LeaseView view(Lease l, List<Machine> machines) {
        return new LeaseView(l.id, l.tenantId, l.externalRef, l.state, l.startsAt, l.endsAt, l.terminatedAt,
                machines.stream().map(m -> new LeasedMachine(m.id, m.name)).toList(), l.createdAt, l.updatedAt, l.version);
    }

    static Lease require(Lease l, UUID id) {
        if (l == null) {
            throw ApiException.notFound("lease", id);
        }
        return l;
    }

    private static void checkDates(Instant starts, Instant ends) {
        if (starts != null && ends != null && !ends.isAfter(starts)) {
            throw ApiException.badRequest("endsAt", "must be after startsAt");
        }
    }

    private static Instant micros(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.MICROS);
    }

    private static String str(Instant t) {
        return t == null ? null : t.toString();
    }

}
