package io.metalgate.integration;

import io.metalgate.common.ApiException;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.LeaseLifecycle;
import io.metalgate.lease.LeaseService;
import io.metalgate.lease.LeaseState;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Lease events in batches (a Kafka poll's records): received, stored, idempotency-checked, applied and audited in
 * <em>one</em> transaction of a few set-based statements, where the per-event route ({@link LeaseEventRoutes}) takes two
 * transactions and a dozen ORM round trips per event. The rules are the route's, decided by the same code: an event
 * is keyed by (source, external id) in {@code inbound_event}; a repeat with the same content is a DUPLICATE (applied
 * now if its first copy was stored but never applied); an unknown lease is stored as UNKNOWN_LEASE; a move the lease's
 * state does not accept is stored as REJECTED with the problem {@link LeaseService#transition} names; every stored
 * event is audited {@code lease.event.received} and every move {@code lease.transitioned} (with its
 * {@code state_transition} row), in the order of the batch, which keeps each lease's events in the order they came.
 *
 * <p>What a batch does not settle it hands back untouched, for the caller to send through the per-event route (which
 * dead-letters, places holds and answers problems): anything but a plain lease event, an event whose words look like a
 * preservation request (the route places that hold first), a key reused for other content (a CONFLICT for the dead
 * letters), and every later event of a lease or key that one of those concerned (so a lease's events stay in order).
 */
@ApplicationScoped
public class BatchIntake {

    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    LeaseEventIntake intake;
    @Inject
    Event<LeaseService.LeaseTransitioned> transitioned;

    /** What became of a batch: a result for each event it settled (by its index in the batch), and the indexes it left. */
    public record Outcome(Map<Integer, IntakeResult> settled, List<Integer> left) {
    }

    /** How many times a batch that raced another writer (a unique key, a deadlock) is tried again, whole. */
    static final int ATTEMPTS = 4;

    /**
     * Whether a batch may settle this event: a plain lease event naming its lease. Holds, notes and events worded like a
     * preservation request need the route (its holds, its reviews).
     */
    static boolean batchable(LeaseEvent e) {
        return e.effectiveAction() == LeaseEvent.Action.LEASE_EVENT && e.type() != null && LeaseEventIntake.blankToNull(e.leaseRef()) != null
                && !LeaseEventIntake.looksLikePreservation(e);
    }

    /**
     * Settles what it can of {@code events} (each valid, as the route's parse leaves it) by {@code actor}; the rest is
     * left, in order. Fails only when the database fails: then nothing of the batch was written.
     */
    public Uni<Outcome> process(List<LeaseEvent> events, String actor) {
        List<Integer> mine = new ArrayList<>();
        List<Integer> left = new ArrayList<>();
        Set<String> leftLeases = new java.util.HashSet<>();
        Set<String> leftKeys = new java.util.HashSet<>();
        for (int i = 0; i < events.size(); i++) {
            LeaseEvent e = events.get(i);
            String key = InboundEventRepository.key(e.source(), e.externalId());
            if (!batchable(e) || leftLeases.contains(e.leaseRef()) || leftKeys.contains(key)) {
                left.add(i);
                if (e.leaseRef() != null) {
                    leftLeases.add(e.leaseRef());
                }
                leftKeys.add(key);
            } else {
                mine.add(i);
            }
        }
        if (mine.isEmpty()) {
            return Uni.createFrom().item(new Outcome(Map.of(), left));
        }
        // a conflict changes no lease, so the events of its lease the batch applied stay applied; the route dead-letters it
        return attempt(events, mine, actor, 1).chain(done -> audit.sequenced().invoke(() -> done.moved.forEach((lease, state) -> transitioned
                .fireAsync(new LeaseService.LeaseTransitioned(lease, state)))).replaceWith(() -> {
                    List<Integer> all = new ArrayList<>(left);
                    all.addAll(done.conflicts);
                    all.sort(null);
                    return new Outcome(done.results, all);
                }));
    }

    /**
     * {@link #process}, or, when the batch cannot be written (after its retries), nothing settled and every event left
     * for the route, which keeps each one or dead-letters it with its reason: one event PostgreSQL refuses (a date out
     * of its range) must not stall a Kafka partition or a sender's batch forever. Fails only if the caller must stop.
     */
    public Uni<Outcome> processOrLeave(List<LeaseEvent> events, String actor) {
        return process(events, actor).onFailure().recoverWithItem(e -> {
            LOG.warnf("a batch of %d lease events could not be written together (%s); each goes through the intake route", events.size(),
                    e.toString());
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < events.size(); i++) {
                all.add(i);
            }
            return new Outcome(Map.of(), all);
        });
    }

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(BatchIntake.class);

    private Uni<Done> attempt(List<LeaseEvent> events, List<Integer> mine, String actor, int attempt) {
        return pool.withTransaction(tx -> settle(tx, events, mine, actor)).onFailure(e -> attempt < ATTEMPTS && retryable(e))
                .recoverWithUni(() -> attempt(events, mine, actor, attempt + 1));
    }

    /** Another writer got there first (the same event's key, from another channel or appliance) or PostgreSQL broke a deadlock. */
    private static boolean retryable(Throwable e) {
        return e instanceof RaceLost || e instanceof PgException pg && ("40P01".equals(pg.getSqlState()) || "40001".equals(pg.getSqlState()));
    }

    private static final class RaceLost extends RuntimeException {
        RaceLost() {
            super("another writer stored one of the batch's events first", null, false, false);
        }
    }

    /** What a batch's transaction did: results by index, indexes that conflict, leases moved (their last state). */
    private static final class Done {
        final Map<Integer, IntakeResult> results = new HashMap<>();
        final List<Integer> conflicts = new ArrayList<>();
        final Map<UUID, LeaseState> moved = new LinkedHashMap<>();
    }

    /** A lease as the batch sees it: its row locked, its state as the batch's events leave it. */
    private static final class LeaseRow {
        final UUID id;
        LeaseState state;
        boolean terminated;
        final long holdingData;

        LeaseRow(UUID id, LeaseState state, long holdingData) {
            this.id = id;
            this.state = state;
            this.holdingData = holdingData;
        }
    }

    private Uni<Done> settle(SqlConnection tx, List<LeaseEvent> events, List<Integer> mine, String actor) {
        String[] sources = new String[mine.size()];
        String[] externalIds = new String[mine.size()];
        Set<String> refs = new LinkedHashSet<>();
        for (int j = 0; j < mine.size(); j++) {
            LeaseEvent e = events.get(mine.get(j));
            sources[j] = e.source();
            externalIds[j] = e.externalId();
            refs.add(e.leaseRef());
        }
        String[] leaseRefs = refs.toArray(new String[0]);
        Map<String, Row> stored = new HashMap<>();
        Map<String, LeaseRow> leases = new HashMap<>();
        // the events' rows, then the leases' (by id, as every lease change takes them), then their machines'
        return tx.preparedQuery("SELECT e.id, e.source, e.external_id, e.body, e.status FROM inbound_event e JOIN unnest($1::text[], $2::text[]) "
                + "AS k(source, external_id) ON e.source = k.source AND e.external_id = k.external_id ORDER BY e.id FOR UPDATE OF e")
                .execute(Tuple.of(sources, externalIds))
                .invoke(rows -> rows.forEach(r -> stored.put(InboundEventRepository.key(r.getString("source"), r.getString("external_id")), r)))
                .chain(() -> tx.preparedQuery("SELECT id, external_ref, state FROM lease WHERE external_ref = ANY($1) ORDER BY id FOR UPDATE")
                        .execute(Tuple.of((Object) leaseRefs)))
                .chain(leaseRows -> {
                    Map<UUID, Object[]> byId = new LinkedHashMap<>();
                    leaseRows.forEach(r -> byId.put(r.getUUID("id"), new Object[] {r.getString("external_ref"), r.getString("state")}));
                    UUID[] ids = byId.keySet().toArray(new UUID[0]);
                    return tx.preparedQuery("SELECT data_lease_id FROM machine WHERE data_lease_id = ANY($1) ORDER BY id FOR UPDATE")
                            .execute(Tuple.of((Object) ids)).invoke(machines -> {
                                Map<UUID, Long> holding = new HashMap<>();
                                machines.forEach(m -> holding.merge(m.getUUID("data_lease_id"), 1L, Long::sum));
                                byId.forEach((id, v) -> leases.put((String) v[0], new LeaseRow(id, LeaseState.valueOf((String) v[1]),
                                        holding.getOrDefault(id, 0L))));
                            });
                })
                .chain(() -> write(tx, decide(events, mine, stored, leases, actor), leases));
    }

    /** The batch's writes, decided in memory in the batch's order. */
    private static final class Plan {
        final Done done = new Done();
        final List<Object[]> inserts = new ArrayList<>(); // id, event, canonical body, status
        final List<Object[]> statusUpdates = new ArrayList<>(); // id, status (rows stored RECEIVED before)
        final List<Object[]> transitions = new ArrayList<>(); // lease id, from, event, to, reason
        final List<String[]> audits = new ArrayList<>(); // action, subject, payload
        final Instant now = Instant.now();
        final String actor;

        Plan(String actor) {
            this.actor = actor;
        }
    }

    private Plan decide(List<LeaseEvent> events, List<Integer> mine, Map<String, Row> stored, Map<String, LeaseRow> leases, String actor) {
        Plan plan = new Plan(actor);
        Map<String, Object[]> firstInBatch = new HashMap<>(); // key -> {canonical, index}
        for (int i : mine) {
            LeaseEvent e = events.get(i);
            String key = InboundEventRepository.key(e.source(), e.externalId());
            String canonical = intake.canonical(e);
            Object[] earlier = firstInBatch.get(key);
            if (earlier != null) {
                if (!earlier[0].equals(canonical)) {
                    plan.done.conflicts.add(i);
                } else {
                    IntakeResult first = plan.done.results.get((Integer) earlier[1]);
                    plan.done.results.put(i, new IntakeResult(IntakeResult.Outcome.DUPLICATE, first.eventId(), null, first.status(), first.problem()));
                }
                continue;
            }
            Row row = stored.get(key);
            if (row != null) {
                if (!canonical.equals(row.getString("body"))) {
                    plan.done.conflicts.add(i);
                    continue;
                }
                firstInBatch.put(key, new Object[] {canonical, i});
                UUID id = row.getUUID("id");
                String status = row.getString("status");
                if (LeaseEventIntake.STATUS_UNKNOWN_LEASE.equals(status) && leases.containsKey(e.leaseRef())) {
                    // sent before its lease existed, sent again now that it does: acted on, as the route's repeat does
                    plan.audits.add(new String[] {"lease.event.target-found", e.refSubject(), audit.canonical(Map.of("eventId", id.toString(),
                            "source", e.source(), "externalId", e.externalId()))});
                    status = LeaseEventIntake.STATUS_RECEIVED;
                }
                if (LeaseEventIntake.STATUS_RECEIVED.equals(status)) {
                    // stored before and never applied (a crash, a failure): applied now, as the route's repeat does
                    LeaseRow lease = leases.get(e.leaseRef());
                    IntakeResult applied = lease != null ? apply(plan, id, e, lease, actor)
                            : new IntakeResult(IntakeResult.Outcome.REJECTED, id, null, LeaseEventIntake.STATUS_REJECTED,
                                    ApiException.notFound("lease with external reference", e.leaseRef()).problem());
                    plan.statusUpdates.add(new Object[] {id, applied.status()});
                    plan.done.results.put(i, new IntakeResult(IntakeResult.Outcome.DUPLICATE, id, null, applied.status(), applied.problem()));
                    continue;
                }
                plan.done.results.put(i, new IntakeResult(IntakeResult.Outcome.DUPLICATE, id, null, status, null));
                continue;
            }
            firstInBatch.put(key, new Object[] {canonical, i});
            UUID id = UUID.randomUUID();
            LeaseRow lease = leases.get(e.leaseRef());
            String receivedAs = lease == null ? LeaseEventIntake.STATUS_UNKNOWN_LEASE : LeaseEventIntake.STATUS_RECEIVED;
            plan.audits.add(new String[] {"lease.event.received", e.refSubject(), audit.canonical(LeaseEventIntake.payload(id, e, receivedAs))});
            IntakeResult result = lease == null
                    ? new IntakeResult(IntakeResult.Outcome.UNKNOWN_LEASE, id, null, receivedAs, LeaseEventIntake.unknownTarget(e, id))
                    : apply(plan, id, e, lease, actor);
            plan.inserts.add(new Object[] {id, e, canonical, result.status()});
            plan.done.results.put(i, result);
        }
        return plan;
    }

    /** Moves the lease by the transition table (in memory), or says why not: the route's {@code apply}, for a batch. */
    private IntakeResult apply(Plan plan, UUID eventId, LeaseEvent e, LeaseRow lease, String actor) {
        LeaseLifecycle.Event event = LeaseLifecycle.Event.valueOf(e.type().name());
        LeaseState to;
        try {
            to = LeaseService.transition(lease.state, event, lease.holdingData).to();
        } catch (ApiException refused) {
            return new IntakeResult(IntakeResult.Outcome.REJECTED, eventId, null, LeaseEventIntake.STATUS_REJECTED, refused.problem());
        }
        String reason = "lease event " + e.source() + "/" + e.externalId();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("from", lease.state.name());
        payload.put("event", event.name());
        payload.put("to", to.name());
        payload.put("reason", reason);
        plan.transitions.add(new Object[] {lease.id, lease.state.name(), event.name(), to.name(), reason});
        plan.audits.add(new String[] {"lease.transitioned", "lease:" + lease.id, audit.canonical(payload)});
        lease.state = to;
        lease.terminated |= to == LeaseState.TERMINATED;
        plan.done.moved.put(lease.id, to);
        return new IntakeResult(IntakeResult.Outcome.APPLIED, eventId, null, LeaseEventIntake.STATUS_APPLIED, null);
    }

    private Uni<Done> write(SqlConnection tx, Plan plan, Map<String, LeaseRow> leases) {
        OffsetDateTime now = AuditHashes.truncate(plan.now).atOffset(ZoneOffset.UTC);
        Uni<Void> chain = Uni.createFrom().voidItem();
        if (!plan.inserts.isEmpty()) {
            int n = plan.inserts.size();
            UUID[] ids = new UUID[n];
            String[] src = new String[n], ext = new String[n], type = new String[n], ref = new String[n], body = new String[n], status = new String[n],
                    tenantRef = new String[n];
            OffsetDateTime[] occurred = new OffsetDateTime[n];
            for (int k = 0; k < n; k++) {
                Object[] ins = plan.inserts.get(k);
                LeaseEvent e = (LeaseEvent) ins[1];
                ids[k] = (UUID) ins[0];
                src[k] = e.source();
                ext[k] = e.externalId();
                type[k] = e.typeName();
                ref[k] = e.leaseRef();
                tenantRef[k] = LeaseEventIntake.blankToNull(e.tenantRef());
                occurred[k] = e.occurredAt() == null ? null : e.occurredAt().atOffset(ZoneOffset.UTC);
                body[k] = (String) ins[2];
                status[k] = (String) ins[3];
            }
            chain = chain.chain(() -> tx.preparedQuery("INSERT INTO inbound_event (id, source, external_id, event_type, lease_ref, tenant_ref, "
                    + "occurred_at, received_at, body, status) SELECT u.id, u.s, u.e, u.t, u.l, u.tr, u.o, $8, u.b, u.st FROM unnest($1::uuid[], "
                    + "$2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $9::text[], $10::text[]) "
                    + "AS u(id, s, e, t, l, o, b, st, tr) ON CONFLICT ON CONSTRAINT inbound_event_source_external_key DO NOTHING")
                    .execute(Tuple.from(Arrays.asList(ids, src, ext, type, ref, occurred, body, now, status, tenantRef)))
                    .invoke(rs -> {
                        if (rs.rowCount() != n) {
                            throw new RaceLost();
                        }
                    }).replaceWithVoid());
        }
        if (!plan.statusUpdates.isEmpty()) {
            UUID[] ids = plan.statusUpdates.stream().map(u -> (UUID) u[0]).toArray(UUID[]::new);
            String[] st = plan.statusUpdates.stream().map(u -> (String) u[1]).toArray(String[]::new);
            chain = chain.chain(() -> tx.preparedQuery("UPDATE inbound_event SET status = u.st FROM unnest($1::uuid[], $2::text[]) AS u(id, st) "
                    + "WHERE inbound_event.id = u.id AND inbound_event.status IN ('RECEIVED', 'UNKNOWN_LEASE')").execute(Tuple.of(ids, st)).replaceWithVoid());
        }
        if (!plan.transitions.isEmpty()) {
            List<LeaseRow> moved = leases.values().stream().filter(l -> plan.done.moved.containsKey(l.id)).toList();
            UUID[] leaseIds = moved.stream().map(l -> l.id).toArray(UUID[]::new);
            String[] states = moved.stream().map(l -> l.state.name()).toArray(String[]::new);
            Boolean[] terminated = moved.stream().map(l -> l.terminated).toArray(Boolean[]::new);
            chain = chain.chain(() -> tx.preparedQuery("UPDATE lease SET state = u.st, updated_at = $4, version = version + 1, terminated_at = "
                    + "CASE WHEN u.term THEN $4 ELSE terminated_at END FROM unnest($1::uuid[], $2::text[], $3::boolean[]) AS u(id, st, term) "
                    + "WHERE lease.id = u.id").execute(Tuple.of(leaseIds, states, terminated, now)).replaceWithVoid());
            int n = plan.transitions.size();
            UUID[] ids = new UUID[n], subjects = new UUID[n];
            String[] from = new String[n], event = new String[n], to = new String[n], reason = new String[n];
            for (int k = 0; k < n; k++) {
                Object[] t = plan.transitions.get(k);
                ids[k] = UUID.randomUUID();
                subjects[k] = (UUID) t[0];
                from[k] = (String) t[1];
                event[k] = (String) t[2];
                to[k] = (String) t[3];
                reason[k] = (String) t[4];
            }
            chain = chain.chain(() -> tx.preparedQuery("INSERT INTO state_transition (id, subject_type, subject_id, from_state, event, to_state, "
                    + "actor, reason, at) SELECT u.id, 'LEASE', u.sid, u.f, u.e, u.t, $7, u.r, $8 FROM unnest($1::uuid[], $2::uuid[], $3::text[], "
                    + "$4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(id, sid, f, e, t, r, n) ORDER BY u.n")
                    .execute(Tuple.from(Arrays.asList(ids, subjects, from, event, to, reason, plan.actor, now))).replaceWithVoid());
        }
        if (!plan.audits.isEmpty()) {
            String[] actions = plan.audits.stream().map(a -> a[0]).toArray(String[]::new);
            String[] subjects = plan.audits.stream().map(a -> a[1]).toArray(String[]::new);
            String[] payloads = plan.audits.stream().map(a -> a[2]).toArray(String[]::new);
            chain = chain.chain(() -> tx.preparedQuery("INSERT INTO audit_pending (occurred_at, actor, action, subject, payload) SELECT $1, $2, "
                    + "u.a, u.s, u.p FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(a, s, p, n) ORDER BY u.n")
                    .execute(Tuple.of(now, plan.actor, actions, subjects, payloads)).replaceWithVoid());
        }
        return chain.replaceWith(plan.done);
    }
}
