package io.metalgate.integration.outbound;

import io.metalgate.common.ApiException;
import io.metalgate.evidence.AuditLog;
import io.metalgate.security.SecretCipher;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Webhook and ticket endpoints the relay delivers to. The HMAC secret is encrypted at rest with the endpoint's id as
 * associated data and never returned nor logged; a new endpoint's cursor starts at the chain's head (it gets what
 * happens from now on, not the history). Created and disabled with an audit entry in the same transaction.
 */
@ApplicationScoped
public class OutboundEndpoints {

    public enum Kind {
        WEBHOOK, TICKET
    }

    /** Actions a webhook gets unless told otherwise: the domain events. */
    public static final List<String> WEBHOOK_ACTIONS = List.of("notice.created", "lease.transitioned", "machine.transitioned",
            "gate.decided", "hold.placed", "hold.released");
    /** Actions a ticket endpoint gets unless told otherwise (of gate decisions, only erases are ticketed). */
    public static final List<String> TICKET_ACTIONS = List.of("gate.decided", "hold.placed", "hold.released");
    /** Actions an endpoint may subscribe to. */
    public static final Set<String> ALLOWED_ACTIONS = Set.of("notice.created", "notice.attempt-recorded", "lease.transitioned",
            "lease.created", "machine.transitioned", "gate.decided", "hold.placed", "hold.released", "hold.release-requested",
            "tenant.notice-link-used", "erase.certificate-issued");

    /** As the API shows an endpoint: never the secret, only whether there is one. */
    public record EndpointView(UUID id, String name, Kind kind, String url, boolean signed, UUID tenantId, List<String> actions,
            String createdBy, Instant createdAt, Instant disabledAt) {
    }

    /** What the relay needs: the secret decrypted. */
    record Endpoint(UUID id, String name, Kind kind, String url, String secret, UUID tenantId, Set<String> actions) {
        String subscriber() {
            return "endpoint:" + id;
        }
    }

    @Inject
    Pool pool;
    @Inject
    SecretCipher cipher;
    @Inject
    AuditLog audit;

    static String secretContext(UUID id) {
        return "outbound-endpoint:" + id;
    }

    public Uni<EndpointView> create(String name, Kind kind, String url, String secret, UUID tenantId, List<String> actions, String actor) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("url", "not a URL");
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
            throw ApiException.badRequest("url", "an http or https URL with a host");
        }
        List<String> acts = actions == null || actions.isEmpty() ? (kind == Kind.TICKET ? TICKET_ACTIONS : WEBHOOK_ACTIONS) : actions;
        for (String a : acts) {
            if (!ALLOWED_ACTIONS.contains(a)) {
                throw ApiException.badRequest("actions", "unknown action " + a + "; one of " + ALLOWED_ACTIONS);
            }
        }
        UUID id = UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        String enc = secret == null ? null : cipher.encrypt(secret, secretContext(id));
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("endpointId", id.toString());
        payload.put("name", name);
        payload.put("kind", kind.name());
        payload.put("url", url);
        payload.put("signed", secret != null);
        payload.put("tenantId", tenantId == null ? null : tenantId.toString());
        payload.put("actions", acts);
        return pool.withTransaction(tx -> (tenantId == null ? Uni.createFrom().voidItem()
                : tx.preparedQuery("SELECT 1 FROM tenant WHERE id = $1").execute(Tuple.of(tenantId)).invoke(r -> {
                    if (r.rowCount() == 0) {
                        throw ApiException.badRequest("tenantId", "no tenant " + tenantId);
                    }
                }).replaceWithVoid())
                .chain(() -> tx.preparedQuery("SELECT 1 FROM outbound_endpoint WHERE name = $1").execute(Tuple.of(name)))
                .invoke(r -> {
                    if (r.rowCount() > 0) {
                        throw ApiException.conflict("an endpoint named " + name + " exists", "name");
                    }
                })
                .chain(() -> tx.preparedQuery("INSERT INTO outbound_endpoint (id, name, kind, url, secret, tenant_id, actions, created_by, "
                        + "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                        .execute(Tuple.from(Arrays.asList(id, name, kind.name(), url, enc, tenantId, String.join(",", acts), actor,
                                now.atOffset(ZoneOffset.UTC)))))
                .chain(() -> tx.preparedQuery("INSERT INTO outbox_cursor (subscriber, last_seq, updated_at) SELECT $1, seq, now() "
                        + "FROM audit_head").execute(Tuple.of("endpoint:" + id)))
                .chain(() -> audit.record(tx, actor, "outbound.endpoint-created", "outbound-endpoint:" + id, payload)))
                .chain(audit::sequenced).chain(() -> get(id));
    }

    public Uni<EndpointView> disable(UUID id, String actor) {
        return pool.withTransaction(tx -> tx.preparedQuery("UPDATE outbound_endpoint SET disabled_at = now() WHERE id = $1 "
                + "AND disabled_at IS NULL").execute(Tuple.of(id)).chain(r -> r.rowCount() == 0 ? Uni.createFrom().voidItem()
                        : audit.record(tx, actor, "outbound.endpoint-disabled", "outbound-endpoint:" + id, Map.of("endpointId", id.toString()))))
                .chain(audit::sequenced).chain(() -> get(id));
    }

    public Uni<EndpointView> get(UUID id) {
        return pool.preparedQuery(SELECT + " WHERE id = $1").execute(Tuple.of(id)).map(rows -> {
            if (rows.rowCount() == 0) {
                throw ApiException.notFound("outbound endpoint", id);
            }
            return view(rows.iterator().next());
        });
    }

    public Uni<List<EndpointView>> list() {
        return pool.query(SELECT + " ORDER BY created_at, id").execute().map(rows -> {
            List<EndpointView> out = new ArrayList<>();
            rows.forEach(r -> out.add(view(r)));
            return out;
        });
    }

    /** The enabled endpoints with their secrets, for the relay. */
    Uni<List<Endpoint>> active(SqlClient db) {
        return db.query(SELECT + " WHERE disabled_at IS NULL ORDER BY id").execute().map(rows -> {
            List<Endpoint> out = new ArrayList<>();
            for (Row r : rows) {
                UUID id = r.getUUID("id");
                String enc = r.getString("secret");
                out.add(new Endpoint(id, r.getString("name"), Kind.valueOf(r.getString("kind")), r.getString("url"),
                        enc == null ? null : cipher.decrypt(enc, secretContext(id)), r.getUUID("tenant_id"),
                        Set.copyOf(Arrays.asList(r.getString("actions").split(",")))));
            }
            return out;
        });
    }

    /** One endpoint with its secret (for a delivery), whether or not it is still enabled. */
    Uni<Endpoint> forDelivery(UUID id) {
        return pool.preparedQuery(SELECT + " WHERE id = $1").execute(Tuple.of(id)).map(rows -> {
            if (rows.rowCount() == 0) {
                return null;
            }
            Row r = rows.iterator().next();
            String enc = r.getString("secret");
            return new Endpoint(id, r.getString("name"), Kind.valueOf(r.getString("kind")), r.getString("url"),
                    enc == null ? null : cipher.decrypt(enc, secretContext(id)), r.getUUID("tenant_id"),
                    Set.copyOf(Arrays.asList(r.getString("actions").split(","))));
        });
    }

    private static final String SELECT = "SELECT id, name, kind, url, secret, tenant_id, actions, created_by, created_at, disabled_at "
            + "FROM outbound_endpoint";

    private static EndpointView view(Row r) {
        var dis = r.getOffsetDateTime("disabled_at");
        return new EndpointView(r.getUUID("id"), r.getString("name"), Kind.valueOf(r.getString("kind")), r.getString("url"),
                r.getString("secret") != null, r.getUUID("tenant_id"), List.of(r.getString("actions").split(",")),
                r.getString("created_by"), r.getOffsetDateTime("created_at").toInstant(), dis == null ? null : dis.toInstant());
    }
}
