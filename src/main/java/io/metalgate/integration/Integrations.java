package io.metalgate.integration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.evidence.AuditLog;
import io.metalgate.security.SecretCipher;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Signed webhook integrations: one HTTP endpoint each ({@code /api/integrations/webhooks/{name}}), with
 * its own HMAC secret (encrypted at rest with the integration's name as associated data, returned only
 * once, when generated; never logged or audited), signature header, replay window and field map.
 * Every change is audited under {@code integration:NAME}.
 */
@ApplicationScoped
public class Integrations {

    /** What an integration carries in. */
    public enum Kind {
        /** Lease events from a billing system. */
        BILLING_WEBHOOK,
        /** Lease events from a ticketing system (mapped the same way). */
        TICKETING_WEBHOOK
    }

    public static final String DEFAULT_SIGNATURE_HEADER = "Metalgate-Signature";

    /** How requests are signed (WebhookSignature). */
    public enum Scheme {
        /** {@code t=<unix>,v1=<hex HMAC-SHA256 of "t.body">} (Stripe's scheme): the default. */
        METALGATE,
        /** Zendesk's: base64(HMAC-SHA256(timestamp + body)), the timestamp in the header named {@code <signature header>-Timestamp}. */
        ZENDESK;

        /** The header a sender of this scheme signs in, unless the integration names another. */
        public String defaultHeader() {
            return this == ZENDESK ? "X-Zendesk-Webhook-Signature" : DEFAULT_SIGNATURE_HEADER;
        }
    }

    /** An integration as the API shows it (never its secret). */
    public record View(String name, Kind kind, Scheme signatureScheme, String signatureHeader, long toleranceSeconds, FieldMap mapping, boolean enabled, String createdBy,
            Instant createdAt, Instant updatedAt, int version, String endpoint) {
    }

    /** What a webhook is checked and mapped with. */
    public record Webhook(String name, Kind kind, byte[] secret, Scheme signatureScheme, String signatureHeader, Duration tolerance, FieldMap mapping, boolean enabled) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    SecretCipher cipher;
    @Inject
    ObjectMapper mapper;
    @Inject
    MetalgateConfig config;

    /** A fresh secret: 32 random bytes, base64url (what {@link #create} generates when none is given). */
    public static String newSecret() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public Uni<View> create(String name, Kind kind, String secret, Scheme scheme, String signatureHeader, Long toleranceSeconds, FieldMap mapping,
            String actor) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        long tolerance = toleranceSeconds != null ? toleranceSeconds : config.integrations().webhookTolerance().toSeconds();
        Scheme signed = scheme != null ? scheme : Scheme.METALGATE;
        String header = signatureHeader != null ? signatureHeader : signed.defaultHeader();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("kind", kind.name());
        payload.put("signatureScheme", signed.name());
        payload.put("signatureHeader", header);
        payload.put("toleranceSeconds", tolerance);
        payload.put("mapping", mapping);
        return pool.withTransaction(tx -> tx.preparedQuery("INSERT INTO integration (name, kind, secret, signature_header, tolerance_seconds, "
                + "mapping, created_by, created_at, updated_at, signature_scheme) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) "
                + "ON CONFLICT (name) DO NOTHING")
                .execute(Tuple.from(List.of(name, kind.name(), cipher.encrypt(secret, associated(name)), header, (int) tolerance,
                        json(mapping) == null ? "" : json(mapping), actor, now.atOffset(ZoneOffset.UTC), signed.name())))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.conflict("an integration named " + name + " exists", "name");
                    }
                    return audit.record(tx, actor, "integration.created", subject(name), payload);
                }))
                .call(audit::sequenced).chain(() -> get(name));
    }

    /** Replaces the secret (audited; the old one stops working at once). */
    public Uni<View> rotateSecret(String name, String secret, String actor) {
        return pool.withTransaction(tx -> tx.preparedQuery("UPDATE integration SET secret = $2, updated_at = now(), version = version + 1 "
                + "WHERE name = $1").execute(Tuple.of(name, cipher.encrypt(secret, associated(name)))).chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("integration", name);
                    }
                    return audit.record(tx, actor, "integration.secret-rotated", subject(name), Map.of("name", name));
                })).call(audit::sequenced).chain(() -> get(name));
    }

    /** Changes what is given (enabled, tolerance, signature header, mapping: an empty map clears it). */
    public Uni<View> update(String name, Boolean enabled, Long toleranceSeconds, String signatureHeader, FieldMap mapping, boolean clearMapping,
            String actor) {
        Map<String, Object> changes = new LinkedHashMap<>();
        if (enabled != null) {
            changes.put("enabled", enabled);
        }
        if (toleranceSeconds != null) {
            changes.put("toleranceSeconds", toleranceSeconds);
        }
        if (signatureHeader != null) {
            changes.put("signatureHeader", signatureHeader);
        }
        if (mapping != null || clearMapping) {
            changes.put("mapping", mapping);
        }
        if (changes.isEmpty()) {
            throw ApiException.badRequest("body", "nothing to change: give enabled, toleranceSeconds, signatureHeader or mapping");
        }
        return pool.withTransaction(tx -> tx.preparedQuery("UPDATE integration SET enabled = coalesce($2, enabled), "
                + "tolerance_seconds = coalesce($3, tolerance_seconds), signature_header = coalesce($4, signature_header), "
                + "mapping = CASE WHEN $5 THEN $6 ELSE mapping END, updated_at = now(), version = version + 1 WHERE name = $1")
                .execute(Tuple.from(java.util.Arrays.asList(name, enabled, toleranceSeconds == null ? null : toleranceSeconds.intValue(),
                        signatureHeader, mapping != null || clearMapping, mapping == null ? "" : json(mapping))))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("integration", name);
                    }
                    return audit.record(tx, actor, "integration.updated", subject(name), changes);
                })).call(audit::sequenced).chain(() -> get(name));
    }

    public Uni<View> get(String name) {
        return pool.preparedQuery("SELECT * FROM integration WHERE name = $1").execute(Tuple.of(name)).map(rows -> {
            if (rows.size() == 0) {
                throw ApiException.notFound("integration", name);
            }
            return view(rows.iterator().next());
        });
    }

    public Uni<List<View>> list() {
        return pool.query("SELECT * FROM integration ORDER BY name").execute().map(rows -> {
            List<View> out = new ArrayList<>();
            rows.forEach(r -> out.add(view(r)));
            return out;
        });
    }

    /** The webhook named {@code name}, with its secret decrypted, for checking a request; empty when there is none. */
    public Uni<Optional<Webhook>> webhook(String name) {
        return pool.preparedQuery("SELECT * FROM integration WHERE name = $1").execute(Tuple.of(name)).map(rows -> {
            if (rows.size() == 0) {
                return Optional.<Webhook> empty();
            }
            Row r = rows.iterator().next();
            byte[] secret = cipher.decrypt(r.getString("secret"), associated(name)).getBytes(StandardCharsets.UTF_8);
            return Optional.of(new Webhook(name, Kind.valueOf(r.getString("kind")), secret, Scheme.valueOf(r.getString("signature_scheme")),
                    r.getString("signature_header"),
                    Duration.ofSeconds(r.getInteger("tolerance_seconds")), mapping(r.getString("mapping")), r.getBoolean("enabled")));
        });
    }

    private View view(Row r) {
        String name = r.getString("name");
        return new View(name, Kind.valueOf(r.getString("kind")), Scheme.valueOf(r.getString("signature_scheme")), r.getString("signature_header"), r.getInteger("tolerance_seconds"),
                mapping(r.getString("mapping")), r.getBoolean("enabled"), r.getString("created_by"), r.getOffsetDateTime("created_at").toInstant(),
                r.getOffsetDateTime("updated_at").toInstant(), r.getInteger("version"), WebhookResource.PATH + "/" + name);
    }

    private FieldMap mapping(String json) {
        if (json == null || json.isEmpty()) {
            return null;
        }
        try {
            return mapper.readValue(json, FieldMap.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored field map does not parse", e);
        }
    }

    private String json(FieldMap mapping) {
        try {
            return mapping == null ? null : mapper.writeValueAsString(mapping);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String associated(String name) {
        return "integration:" + name;
    }

    static String subject(String name) {
        return "integration:" + name;
    }
}
