package io.metalgate.security;

import io.metalgate.evidence.AuditHashes;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import io.quarkus.hibernate.reactive.panache.Panache;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Users and API tokens in PostgreSQL, read on every authentication. Uses the reactive SQL client
 * directly: authentication runs before any Hibernate session exists.
 *
 * <p>Successful password checks are remembered for {@link #CACHE_TTL_NANOS} under a SHA-256 of the
 * credentials, because Argon2id costs tens of milliseconds by design; any change to users or tokens
 * empties the cache.
 */
@ApplicationScoped
public class UserStore {

    public record User(String username, String passwordHash, Set<String> roles, boolean disabled, Instant createdAt) {
    }

    public record Token(UUID id, String name, String username, Set<String> roles, Instant createdAt, Instant expiresAt,
            Instant revokedAt) {
    }

    private record Cached(Set<String> roles, long expiresAtNanos) {
    }

    static final long CACHE_TTL_NANOS = 60_000_000_000L;
    private static final int CACHE_MAX = 10_000;

    @Inject
    Pool pool;

    private final ConcurrentHashMap<String, Cached> verified = new ConcurrentHashMap<>();

    public Uni<Optional<User>> find(String username) {
        return pool.preparedQuery("SELECT username, password_hash, roles, disabled, created_at FROM app_user WHERE username = $1")
                .execute(Tuple.of(username))
                .map(rows -> rows.rowCount() == 0 ? Optional.empty() : Optional.of(user(rows.iterator().next())));
    }

    public Uni<List<User>> list() {
        return pool.query("SELECT username, password_hash, roles, disabled, created_at FROM app_user ORDER BY username")
                .execute().map(rows -> {
                    List<User> out = new java.util.ArrayList<>();
                    rows.forEach(r -> out.add(user(r)));
                    return out;
                });
    }

    public Uni<Long> count() {
        return pool.query("SELECT count(*) FROM app_user").execute().map(rows -> rows.iterator().next().getLong(0));
    }

    /** Inserts a user in the current Hibernate Reactive transaction (which also writes its audit entry). */
    public Uni<Void> insert(String username, String passwordHash, Set<String> roles) {
        return update("INSERT INTO app_user (username, password_hash, roles, created_at) VALUES (:u, :h, :r, :c)",
                Map.of("u", username, "h", passwordHash, "r", String.join(",", roles), "c", now())).replaceWithVoid();
    }

    public Uni<Boolean> updatePassword(String username, String passwordHash) {
        return update("UPDATE app_user SET password_hash = :h WHERE username = :u", Map.of("u", username, "h", passwordHash))
                .map(n -> n == 1);
    }

    public Uni<Boolean> delete(String username) {
        return update("DELETE FROM app_user WHERE username = :u", Map.of("u", username)).map(n -> n == 1);
    }

    public Uni<Void> insertToken(UUID id, String name, String username, String tokenHash, Set<String> roles, Instant expiresAt) {
        Map<String, Object> p = new HashMap<>(Map.of("id", id, "n", name, "u", username, "h", tokenHash, "r",
                String.join(",", roles), "c", now()));
        p.put("e", expiresAt == null ? null : expiresAt.atOffset(ZoneOffset.UTC));
        return update("INSERT INTO api_token (id, name, username, token_hash, roles, created_at, expires_at) "
                + "VALUES (:id, :n, :u, :h, :r, :c, CAST(:e AS timestamptz))", p).replaceWithVoid();
    }

    public Uni<Boolean> revokeToken(UUID id) {
        return update("UPDATE api_token SET revoked_at = :c WHERE id = :id AND revoked_at IS NULL", Map.of("id", id, "c", now()))
                .map(n -> n == 1);
    }

    private Uni<Integer> update(String sql, Map<String, Object> params) {
        return Panache.getSession().chain(session -> {
            var q = session.createNativeQuery(sql);
            params.forEach(q::setParameter);
            return q.executeUpdate();
        }).invoke(verified::clear);
    }

    public Uni<List<Token>> tokens(Optional<String> username) {
        String sql = "SELECT id, name, username, roles, created_at, expires_at, revoked_at FROM api_token "
                + (username.isPresent() ? "WHERE username = $1 " : "") + "ORDER BY created_at";
        return pool.preparedQuery(sql).execute(username.map(Tuple::of).orElseGet(Tuple::tuple)).map(rows -> {
            List<Token> out = new java.util.ArrayList<>();
            rows.forEach(r -> out.add(token(r)));
            return out;
        });
    }

    /** The live token with this secret, with its owner's current state, if any. */
    public Uni<Optional<Token>> findLiveToken(String secret) {
        return pool.preparedQuery("SELECT t.id, t.name, t.username, t.roles, t.created_at, t.expires_at, t.revoked_at "
                + "FROM api_token t JOIN app_user u ON u.username = t.username "
                + "WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled "
                + "AND (t.expires_at IS NULL OR t.expires_at > now())")
                .execute(Tuple.of(AuditHashes.sha256Hex(secret)))
                .map(rows -> rows.rowCount() == 0 ? Optional.empty() : Optional.of(token(rows.iterator().next())));
    }

    Optional<Set<String>> cachedRoles(String username, String password) {
        Cached c = verified.get(cacheKey(username, password));
        if (c == null || c.expiresAtNanos() < System.nanoTime()) {
            return Optional.empty();
        }
        return Optional.of(c.roles());
    }

    void remember(String username, String password, Set<String> roles) {
        if (verified.size() >= CACHE_MAX) {
            verified.clear();
        }
        verified.put(cacheKey(username, password), new Cached(roles, System.nanoTime() + CACHE_TTL_NANOS));
    }

    static String cacheKey(String username, String password) {
        return AuditHashes.sha256Hex(username + "\u0000" + password);
    }

    private static OffsetDateTime now() {
        return OffsetDateTime.now(ZoneOffset.UTC);
    }

    static Set<String> parseRoles(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private static User user(Row r) {
        return new User(r.getString("username"), r.getString("password_hash"), parseRoles(r.getString("roles")),
                r.getBoolean("disabled"), r.getOffsetDateTime("created_at").toInstant());
    }

    private static Token token(Row r) {
        OffsetDateTime exp = r.getOffsetDateTime("expires_at");
        OffsetDateTime rev = r.getOffsetDateTime("revoked_at");
        return new Token(r.getUUID("id"), r.getString("name"), r.getString("username"), parseRoles(r.getString("roles")),
                r.getOffsetDateTime("created_at").toInstant(), exp == null ? null : exp.toInstant(),
                rev == null ? null : rev.toInstant());
    }
}
