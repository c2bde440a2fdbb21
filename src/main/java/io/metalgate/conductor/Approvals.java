package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.evidence.AuditLog;
import io.metalgate.gate.Action;
import io.metalgate.gate.Facts;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Action requests and their approvals: a request is approved or rejected by someone other than its
 * requester who holds the approver role; it expires (metalgate.gate.approval-expiry, 72 h by default).
 * Every step is audited under the machine.
 */
@ApplicationScoped
public class Approvals {

    public enum Status {
        PENDING, APPROVED, REJECTED, EXECUTED
    }

    public record ApprovalView(String approver, Set<String> roles, String decision, String reason, Instant at) {
    }

    public record RequestView(UUID id, Action action, UUID machineId, String requestedBy, String reason, Instant requestedAt,
            Instant expiresAt, Status status, boolean expired, List<ApprovalView> approvals) {
    }

    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    MetalgateConfig config;

    public Uni<RequestView> request(UUID machineId, Action action, String reason, String requester) {
        UUID id = UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Instant expires = now.plus(config.gate().approvalExpiry());
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("requestId", id.toString());
        payload.put("action", action.name());
        payload.put("reason", reason);
        payload.put("expiresAt", expires.toString());
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                "INSERT INTO action_request (id, action, machine_id, requested_by, reason, requested_at, expires_at, status) "
                        + "SELECT :id, :a, m.id, :by, :r, :at, :exp, 'PENDING' FROM machine m WHERE m.id = :m")
                .setParameter("id", id).setParameter("a", action.name()).setParameter("m", machineId).setParameter("by", requester)
                .setParameter("r", reason).setParameter("at", now.atOffset(ZoneOffset.UTC))
                .setParameter("exp", expires.atOffset(ZoneOffset.UTC)).executeUpdate())
                .chain(n -> {
                    if (n == 0) {
                        throw ApiException.notFound("machine", machineId);
                    }
                    return audit.record(requester, "action.requested", "machine:" + machineId, payload);
                }))
                .chain(audit::sequenced).chain(() -> get(id));
    }

    /**
     * Approves or rejects; the approver must not be the requester and must hold the approver role. A
     * refused attempt is audited before it is answered.
     */
    public Uni<RequestView> decide(UUID id, boolean approve, String reason, String approver, Set<String> roles) {
        return decideStep(id, approve, reason, approver, roles).onFailure(ApiException.class).call(e -> {
            ApiException refused = (ApiException) e;
            if (refused.problem().status() == 404) {
                return Uni.createFrom().voidItem();
            }
            return get(id).chain(req -> {
                Map<String, Object> payload = new LinkedHashMap<>();
                payload.put("requestId", id.toString());
                payload.put("decision", approve ? "APPROVE" : "REJECT");
                payload.put("refusal", refused.problem().detail());
                return audit.append(approver, "action.approval-refused", "machine:" + req.machineId(), payload);
            });
        });
    }

    private Uni<RequestView> decideStep(UUID id, boolean approve, String reason, String approver, Set<String> roles) {
        return get(id).chain(req -> {
            ApproverRule.check(req.requestedBy(), approver, roles, "request", approve ? "approve" : "reject");
            if (req.expired()) {
                throw ApiException.conflict("request " + id + " expired at " + req.expiresAt() + "; ask again", "id");
            }
            if (req.status() != Status.PENDING && req.status() != Status.APPROVED) {
                throw ApiException.conflict("request " + id + " is " + req.status(), "id");
            }
            if (req.approvals().stream().anyMatch(a -> a.approver().equals(approver))) {
                throw ApiException.conflict(approver + " has already decided on request " + id, "id");
            }
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("requestId", id.toString());
            payload.put("action", req.action().name());
            payload.put("decision", approve ? "APPROVE" : "REJECT");
            payload.put("reason", reason);
            return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                    "INSERT INTO approval (request_id, approver, roles, decision, reason, at) VALUES (:id, :ap, :roles, :d, :r, :at)")
                    .setParameter("id", id).setParameter("ap", approver).setParameter("roles", String.join(",", roles))
                    .setParameter("d", approve ? "APPROVE" : "REJECT").setParameter("r", reason)
                    .setParameter("at", now.atOffset(ZoneOffset.UTC)).executeUpdate()
                    .chain(() -> s.createNativeQuery("UPDATE action_request SET status = :st WHERE id = :id "
                            + "AND status IN ('PENDING', 'APPROVED') AND expires_at > now()")
                            .setParameter("st", approve ? "APPROVED" : "REJECTED").setParameter("id", id).executeUpdate())
                    .invoke(n -> {
                        if (n == 0) {
                            // executed, rejected or expired meanwhile (the row lock orders us after that change)
                            throw ApiException.conflict("request " + id + " was executed, rejected or expired meanwhile", "id");
                        }
                    }))
                    .chain(() -> audit.record(approver, approve ? "action.approved" : "action.rejected", "machine:" + req.machineId(),
                            payload)))
                    .chain(audit::sequenced).chain(() -> get(id));
        });
    }

    public Uni<RequestView> get(UUID id) {
        return get(pool, id);
    }

    /** The request read through {@code db}: in a machine's lock transaction, with its row locked too. */
    Uni<RequestView> get(io.vertx.mutiny.sqlclient.SqlClient db, UUID id) {
        Uni<Void> lock = db == pool ? Uni.createFrom().voidItem()
                : db.preparedQuery("SELECT id FROM action_request WHERE id = $1 FOR UPDATE").execute(Tuple.of(id)).replaceWithVoid();
        return lock.chain(() -> list(db, "WHERE r.id = $1", Tuple.of(id))).map(l -> {
            if (l.isEmpty()) {
                throw ApiException.notFound("action request", id);
            }
            return l.get(0);
        });
    }

    public Uni<List<RequestView>> forMachine(UUID machineId) {
        return list("WHERE r.machine_id = $1", Tuple.of(machineId));
    }

    /** The approvals a request contributes to the gate's facts (none once expired or rejected). */
    static List<Facts.ApprovalFact> facts(RequestView r) {
        if (!live(r)) {
            return List.of();
        }
        return r.approvals().stream().filter(a -> a.decision().equals("APPROVE"))
                .map(a -> new Facts.ApprovalFact(a.approver(), a.roles(), a.at())).toList();
    }

    /** Whether a request still stands for its action: not expired, rejected or executed (a request is used once). */
    static boolean live(RequestView r) {
        return !(r.expired() || r.status() == Status.REJECTED || r.status() == Status.EXECUTED);
    }

    Uni<Void> markExecuted(io.vertx.mutiny.sqlclient.SqlClient tx, UUID id) {
        return tx.preparedQuery("UPDATE action_request SET status = 'EXECUTED' WHERE id = $1").execute(Tuple.of(id)).replaceWithVoid();
    }

    private Uni<List<RequestView>> list(String where, Tuple args) {
        return list(pool, where, args);
    }

    private Uni<List<RequestView>> list(io.vertx.mutiny.sqlclient.SqlClient db, String where, Tuple args) {
        Instant now = Instant.now();
        return db.preparedQuery("SELECT r.id, r.action, r.machine_id, r.requested_by, r.reason, r.requested_at, r.expires_at, "
                + "r.status, a.approver, a.roles, a.decision, a.reason AS a_reason, a.at FROM action_request r "
                + "LEFT JOIN approval a ON a.request_id = r.id " + where + " ORDER BY r.requested_at, a.at").execute(args)
                .map(rows -> {
                    Map<UUID, RequestView> out = new LinkedHashMap<>();
                    for (Row row : rows) {
                        RequestView v = out.computeIfAbsent(row.getUUID("id"), k -> {
                            Instant expires = row.getOffsetDateTime("expires_at").toInstant();
                            return new RequestView(k, Action.valueOf(row.getString("action")), row.getUUID("machine_id"),
                                    row.getString("requested_by"), row.getString("reason"), row.getOffsetDateTime("requested_at").toInstant(),
                                    expires, Status.valueOf(row.getString("status")), !expires.isAfter(now), new ArrayList<>());
                        });
                        if (row.getString("approver") != null) {
                            v.approvals().add(new ApprovalView(row.getString("approver"),
                                    new LinkedHashSet<>(Arrays.asList(row.getString("roles").split(","))), row.getString("decision"),
                                    row.getString("a_reason"), row.getOffsetDateTime("at").toInstant()));
                        }
                    }
                    return List.copyOf(out.values());
                });
    }
}
