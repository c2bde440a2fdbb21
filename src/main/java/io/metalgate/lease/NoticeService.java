package io.metalgate.lease;

import io.metalgate.common.ApiException;
import io.metalgate.evidence.AuditLog;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Notices to tenants and their delivery attempts, each with its proof (SMTP reply and message id, HTTP
 * status, ticket id, signed-link acknowledgement) and outcome. Recorded here; sending comes with the
 * Camel integrations. Both are audited under the tenant.
 */
@ApplicationScoped
public class NoticeService {

    public enum Kind {
        SUSPENSION, TERMINATION, ERASE
    }

    public enum Channel {
        EMAIL, WEBHOOK, TICKET, LINK
    }

    public enum Outcome {
        SENT, DELIVERED, BOUNCED, ACKNOWLEDGED
    }

    /**
     * @param at        when the appliance received this attempt's record (the time the gate reasons about)
     * @param claimedAt the time the recorder claimed for it, kept as a claim beside {@code at}
     */
    public record AttemptView(UUID id, Channel channel, Outcome outcome, String proof, Instant at, Instant claimedAt, String recordedBy,
            UUID supersedes, boolean byPerson, String confirmedBy, Instant confirmedAt) {

        /**
         * Whether the gate may count it: the appliance made or received it itself, or a person typed it in and a
         * second, different person confirmed it.
         */
        public boolean counts() {
            return !byPerson || confirmedBy != null;
        }
    }

    public record NoticeView(UUID id, Kind kind, UUID tenantId, UUID leaseId, Instant deadline, String createdBy, Instant createdAt,
            List<AttemptView> attempts) {
    }

    @Inject
    AuditLog audit;
    @Inject
    Pool pool;

    public Uni<NoticeView> create(Kind kind, UUID tenantId, UUID leaseId, Instant deadline, String actor) {
        UUID id = UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("noticeId", id.toString());
        payload.put("kind", kind.name());
        payload.put("leaseId", leaseId == null ? null : leaseId.toString());
        payload.put("deadline", deadline == null ? null : deadline.toString());
        return Panache.withTransaction(() -> Tenant.<Tenant>findById(tenantId).chain(t -> {
            if (t == null) {
                throw ApiException.badRequest("tenantId", "no tenant " + tenantId);
            }
            return leaseId == null ? Uni.createFrom().voidItem() : Lease.<Lease>findById(leaseId).invoke(l -> {
                if (l == null || !l.tenantId.equals(tenantId)) {
                    throw ApiException.badRequest("leaseId", "no lease " + leaseId + " of this tenant");
                }
            }).replaceWithVoid();
        }).chain(() -> Panache.getSession().chain(s -> s.createNativeQuery("INSERT INTO notice (id, kind, tenant_id, lease_id, deadline, "
                + "created_by, created_at) VALUES (:id, :k, :t, CAST(:l AS uuid), CAST(:d AS timestamptz), :by, :at)")
                .setParameter("id", id).setParameter("k", kind.name()).setParameter("t", tenantId)
                .setParameter("l", leaseId == null ? null : leaseId.toString())
                .setParameter("d", deadline == null ? null : deadline.atOffset(ZoneOffset.UTC))
                .setParameter("by", actor).setParameter("at", now.atOffset(ZoneOffset.UTC)).executeUpdate()))
                .chain(() -> audit.record(actor, "notice.created", "tenant:" + tenantId, payload)))
                .chain(audit::sequenced).chain(() -> get(id));
    }

    /**
     * Records an attempt at the server's time of receipt. A time the caller claims ({@code claimedAt}) is
     * kept beside it, never used by the gate; a claim older than the notice itself or in the future is
     * refused, because a proof is never older than what it proves.
     */
    public Uni<NoticeView> recordAttempt(UUID noticeId, Channel channel, Outcome outcome, String proof, Instant claimedAt, String actor,
            boolean byPerson) {
        UUID id = UUID.randomUUID();
        Instant when = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Instant claim = claimedAt == null ? null : claimedAt.truncatedTo(ChronoUnit.MICROS);
        return get(noticeId).chain(notice -> {
            if (claim != null && claim.isBefore(notice.createdAt())) {
                throw ApiException.badRequest("at", "claims " + claim + ", before notice " + noticeId + " existed (" + notice.createdAt()
                        + "); an attempt is never older than its notice");
            }
            if (claim != null && claim.isAfter(when.plusSeconds(300))) {
                throw ApiException.badRequest("at", "claims " + claim + ", in the future (the appliance's time is " + when + ")");
            }
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("noticeId", noticeId.toString());
            payload.put("attemptId", id.toString());
            payload.put("kind", notice.kind().name());
            payload.put("channel", channel.name());
            payload.put("outcome", outcome.name());
            payload.put("proof", proof);
            payload.put("at", when.toString());
            payload.put("claimedAt", claim == null ? null : claim.toString());
            payload.put("byPerson", byPerson);
            return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                    "INSERT INTO notice_attempt (id, notice_id, channel, outcome, proof, at, claimed_at, recorded_by, by_person) "
                            + "VALUES (:id, :n, :c, :o, :p, :at, CAST(:claim AS timestamptz), :by, :person)")
                    .setParameter("id", id).setParameter("n", noticeId).setParameter("c", channel.name())
                    .setParameter("o", outcome.name()).setParameter("p", proof).setParameter("at", when.atOffset(ZoneOffset.UTC))
                    .setParameter("claim", claim == null ? null : claim.atOffset(ZoneOffset.UTC))
                    .setParameter("by", actor).setParameter("person", byPerson).executeUpdate())
                    .chain(() -> audit.record(actor, "notice.attempt-recorded", "tenant:" + notice.tenantId(), payload)))
                    .chain(audit::sequenced).chain(() -> get(noticeId));
        });
    }

    /**
     * Records an attempt the appliance itself made (an e-mail it sent, a webhook the tenant's system took, a
     * bounce it read back) inside the caller's Vert.x SQL transaction {@code tx}, at the server's time, with its
     * audit entry; {@code supersedes} names the attempt a bounce bounces (the gate counts the two as one).
     * Returns the attempt's id.
     */
    public Uni<UUID> recordAttempt(io.vertx.mutiny.sqlclient.SqlClient tx, UUID noticeId, Channel channel, Outcome outcome,
            String proof, UUID supersedes, String actor) {
        UUID id = UUID.randomUUID();
        Instant when = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return tx.preparedQuery("INSERT INTO notice_attempt (id, notice_id, channel, outcome, proof, at, recorded_by, supersedes) "
                + "SELECT $1, n.id, $3, $4, $5, $6, $7, $8 FROM notice n WHERE n.id = $2 RETURNING (SELECT kind FROM notice WHERE id = $2), "
                + "(SELECT tenant_id FROM notice WHERE id = $2)")
                .execute(Tuple.from(List.of(id, noticeId, channel.name(), outcome.name(), proof, when.atOffset(ZoneOffset.UTC), actor))
                        .addValue(supersedes))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("notice", noticeId);
                    }
                    Row r = rows.iterator().next();
                    Map<String, Object> payload = new LinkedHashMap<>();
                    payload.put("noticeId", noticeId.toString());
                    payload.put("attemptId", id.toString());
                    payload.put("kind", r.getString(0));
                    payload.put("channel", channel.name());
                    payload.put("outcome", outcome.name());
                    payload.put("proof", proof);
                    payload.put("at", when.toString());
                    payload.put("claimedAt", null);
                    if (supersedes != null) {
                        payload.put("supersedes", supersedes.toString());
                    }
                    return audit.record(tx, actor, "notice.attempt-recorded", "tenant:" + r.getUUID(1), payload).replaceWith(id);
                });
    }

    public Uni<NoticeView> get(UUID id) {
        return list("WHERE n.id = $1", Tuple.of(id)).map(l -> {
            if (l.isEmpty()) {
                throw ApiException.notFound("notice", id);
            }
            return l.get(0);
        });
    }

    public Uni<List<NoticeView>> forTenant(UUID tenantId) {
        return list("WHERE n.tenant_id = $1", Tuple.of(tenantId));
    }

    public Uni<List<NoticeView>> forTenants(UUID[] tenantIds) {
        return forTenants(pool, tenantIds);
    }

    /** The tenants' notices read through {@code db} (a transaction's connection, or the pool). */
    public Uni<List<NoticeView>> forTenants(io.vertx.mutiny.sqlclient.SqlClient db, UUID[] tenantIds) {
        return list(db, "WHERE n.tenant_id = ANY($1)", Tuple.of(tenantIds));
    }

    /**
     * A second, different person confirms an attempt a person typed in (the letter went out, the call was made), so
     * the gate counts it. Audited; an attempt is confirmed once.
     */
    public Uni<NoticeView> confirmAttempt(UUID noticeId, UUID attemptId, String reason, String person) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return get(noticeId).chain(notice -> {
            AttemptView a = notice.attempts().stream().filter(x -> x.id().equals(attemptId)).findFirst()
                    .orElseThrow(() -> ApiException.notFound("attempt", attemptId));
            if (!a.byPerson()) {
                throw ApiException.conflict("attempt " + attemptId + " was made or received by the appliance itself ("
                        + a.recordedBy() + ") with its proof: there is nothing to confirm", "attemptId");
            }
            if (io.metalgate.security.Actors.person(a.recordedBy()).equals(person)) {
                throw ApiException.conflict(person + " recorded attempt " + attemptId + "; a second, different person confirms it",
                        "attemptId");
            }
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("noticeId", noticeId.toString());
            payload.put("attemptId", attemptId.toString());
            payload.put("recordedBy", a.recordedBy());
            payload.put("channel", a.channel().name());
            payload.put("outcome", a.outcome().name());
            payload.put("reason", reason);
            return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                    "INSERT INTO notice_attempt_confirmation (attempt_id, confirmed_by, at, reason) VALUES (:a, :by, :at, :r) "
                            + "ON CONFLICT (attempt_id) DO NOTHING")
                    .setParameter("a", attemptId).setParameter("by", person).setParameter("at", now.atOffset(ZoneOffset.UTC))
                    .setParameter("r", reason).executeUpdate())
                    .invoke(n -> {
                        if (n == 0) {
                            throw ApiException.conflict("attempt " + attemptId + " is already confirmed", "attemptId");
                        }
                    })
                    .chain(() -> audit.record(person, "notice.attempt-confirmed", "tenant:" + notice.tenantId(), payload)))
                    .chain(audit::sequenced).chain(() -> get(noticeId));
        });
    }

    private Uni<List<NoticeView>> list(String where, Tuple args) {
        return list(pool, where, args);
    }

    private Uni<List<NoticeView>> list(io.vertx.mutiny.sqlclient.SqlClient db, String where, Tuple args) {
        return db.preparedQuery("SELECT n.id, n.kind, n.tenant_id, n.lease_id, n.deadline, n.created_by, n.created_at, "
                + "a.id AS a_id, a.channel, a.outcome, a.proof, a.at, a.claimed_at, a.recorded_by, a.supersedes, a.by_person, "
                + "c.confirmed_by, c.at AS confirmed_at FROM notice n "
                + "LEFT JOIN notice_attempt a ON a.notice_id = n.id LEFT JOIN notice_attempt_confirmation c ON c.attempt_id = a.id "
                + where + " ORDER BY n.created_at, n.id, a.at")
                .execute(args).map(rows -> {
                    Map<UUID, NoticeView> out = new LinkedHashMap<>();
                    for (Row r : rows) {
                        NoticeView n = out.computeIfAbsent(r.getUUID("id"), k -> new NoticeView(k, Kind.valueOf(r.getString("kind")),
                                r.getUUID("tenant_id"), r.getUUID("lease_id"), instant(r.getOffsetDateTime("deadline")),
                                r.getString("created_by"), instant(r.getOffsetDateTime("created_at")), new ArrayList<>()));
                        if (r.getUUID("a_id") != null) {
                            n.attempts().add(new AttemptView(r.getUUID("a_id"), Channel.valueOf(r.getString("channel")),
                                    Outcome.valueOf(r.getString("outcome")), r.getString("proof"), instant(r.getOffsetDateTime("at")),
                                    instant(r.getOffsetDateTime("claimed_at")), r.getString("recorded_by"), r.getUUID("supersedes"),
                                    r.getBoolean("by_person"), r.getString("confirmed_by"), instant(r.getOffsetDateTime("confirmed_at"))));
                        }
                    }
                    return List.copyOf(out.values());
                });
    }

    private static Instant instant(OffsetDateTime t) {
        return t == null ? null : t.toInstant();
    }
}
