package io.metalgate.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * The one way to write evidence. {@link #record} adds an entry to the caller's open transaction, so the
 * change and its audit entry commit together or not at all; after the commit, {@link #sequenced()}
 * waits until the entry has its place in the hash chain. {@link #append} does both for an entry that
 * stands alone.
 */
@ApplicationScoped
public class AuditLog {

    @Inject
    ObjectMapper mapper;
    @Inject
    AuditSequencer sequencer;


    /**
     * Records an entry in the current Hibernate Reactive transaction.
     *
     * @param actor   who did it: a user name, {@code user/token}, or {@code system}
     * @param action  what, dotted lower case: {@code machine.enrolled}
     * @param subject what it was done to: {@code machine:<uuid>}
     * @param payload any JSON-serialisable value; never a secret
     */
    public Uni<Void> record(String actor, String action, String subject, Object payload) {
        String canonical = canonical(payload);
        return Panache.getSession().chain(session -> session
                .createNativeQuery("INSERT INTO audit_pending (occurred_at, actor, action, subject, payload) "
                        + "VALUES (:t, :actor, :action, :subject, :payload)")
                .setParameter("t", AuditHashes.truncate(Instant.now()).atOffset(ZoneOffset.UTC))
                .setParameter("actor", actor).setParameter("action", action).setParameter("subject", subject)
                .setParameter("payload", canonical)
                .executeUpdate())
                .replaceWithVoid();
    }

    /**
     * Records an entry in the caller's open Vert.x SQL transaction ({@code tx}): the conductor's
     * transactions, which hold a machine's row lock from reading the facts to recording the decision.
     */
    public Uni<Void> record(io.vertx.mutiny.sqlclient.SqlClient tx, String actor, String action, String subject, Object payload) {
        return tx.preparedQuery("INSERT INTO audit_pending (occurred_at, actor, action, subject, payload) VALUES ($1, $2, $3, $4, $5)")
                .execute(io.vertx.mutiny.sqlclient.Tuple.from(java.util.List.of(AuditHashes.truncate(Instant.now()).atOffset(ZoneOffset.UTC),
                        actor, action, subject, canonical(payload))))
                .replaceWithVoid();
    }

    /** One entry of {@link #recordAll}: what was done to which subject, with its payload. */
    public record Subject(String subject, Object payload) {
    }

    /**
     * Records many entries by one actor and action in the current transaction with a single statement
     * (a bulk plan writes one per tenant: 2,000 round trips would dominate the plan). Entries keep the
     * order of {@code entries} in the chain.
     */
    public Uni<Void> recordAll(String actor, String action, java.util.List<Subject> entries) {
        if (entries.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        String[] subjects = new String[entries.size()];
        String[] payloads = new String[entries.size()];
        for (int i = 0; i < subjects.length; i++) {
            subjects[i] = entries.get(i).subject();
            payloads[i] = canonical(entries.get(i).payload());
        }
        return Panache.getSession().chain(session -> session
                .createNativeQuery("INSERT INTO audit_pending (occurred_at, actor, action, subject, payload) "
                        + "SELECT :t, :actor, :action, e.subject, e.payload FROM unnest(CAST(:subjects AS text[]), "
                        + "CAST(:payloads AS text[])) WITH ORDINALITY AS e(subject, payload, n) ORDER BY e.n")
                .setParameter("t", AuditHashes.truncate(Instant.now()).atOffset(ZoneOffset.UTC))
                .setParameter("actor", actor).setParameter("action", action)
                .setParameter("subjects", subjects).setParameter("payloads", payloads)
                .executeUpdate())
                .replaceWithVoid();
    }

    /** Completes when every entry recorded by transactions that committed before this call is chained. */
    public Uni<Void> sequenced() {
        return sequencer.flush();
    }

    /**
     * Records and chains one entry that stands alone (no other change to commit with it). It travels in
     * memory to the sequencer and is written in the sequencer's own transaction together with whatever
     * else is waiting: one commit for many appends. Completes when that commit is done; on failure
     * nothing was written and the caller is told.
     */
    public Uni<Void> append(String actor, String action, String subject, Object payload) {
        return sequencer.appendStandalone(AuditHashes.truncate(Instant.now()), actor, action, subject, canonical(payload));
    }

    /** RFC 8785 canonical JSON of a payload. */
    public String canonical(Object payload) {
        JsonNode node = payload instanceof JsonNode n ? n : mapper.valueToTree(payload);
        return CanonicalJson.write(node);
    }
}
