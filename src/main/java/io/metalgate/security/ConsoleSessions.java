package io.metalgate.security;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.evidence.AuditHashes;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Sessions of the web console. A session is a row (the token's SHA-256, the user, its CSRF token, idle and absolute
 * expiry); the browser holds the token in an HttpOnly, SameSite=Strict cookie. The user's roles are read with the
 * session on every request, so a role taken away or a user disabled takes effect at the next click, not at the next
 * sign-in.
 */
@ApplicationScoped
public class ConsoleSessions {

    /** The cookie's name; its path is {@link #COOKIE_PATH} only (the API never reads it: no CSRF on the API). */
    public static final String COOKIE = "metalgate_session";
    public static final String COOKIE_PATH = "/console";

    /** A live session: who, with which roles now, and the token its forms must carry. */
    public record Session(String username, Set<String> roles, String csrfToken, Instant expiresAt) {
    }

    /** A new session: the cookie's value (shown to the browser once) and the session. */
    public record Opened(String token, Session session) {
    }

    // last_seen_at is written at most this often: a page of htmx requests is not a write per request
    private static final Duration TOUCH_EVERY = Duration.ofSeconds(30);
    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    Pool pool;
    @Inject
    MetalgateConfig config;

    /** Opens a session for a user who just proved their password. */
    public Uni<Opened> open(String username, Set<String> roles, String remote) {
        String token = random();
        String csrf = random();
        Instant now = Instant.now();
        Instant expires = now.plus(config.console().sessionMax());
        return pool.preparedQuery("INSERT INTO console_session (token_hash, username, csrf_token, created_at, last_seen_at, expires_at, remote) "
                + "VALUES ($1, $2, $3, $4, $4, $5, $6)")
                .execute(Tuple.of(AuditHashes.sha256Hex(token), username, csrf, utc(now), utc(expires), remote))
                // sessions that ended are removed as new ones begin: the table holds live sessions only
                .chain(() -> pool.preparedQuery("DELETE FROM console_session WHERE expires_at < $1 OR last_seen_at < $2")
                        .execute(Tuple.of(utc(now), utc(now.minus(config.console().sessionIdle())))))
                .map(ignored -> new Opened(token, new Session(username, Roles.effective(roles), csrf, expires)));
    }

    /** The live session of this cookie value, if any; touches it (idle timeout). */
    public Uni<Optional<Session>> find(String token) {
        return find(token, true);
    }

    /**
     * The live session of this cookie value, if any; {@code touch}: the request is a person's (a click, a form), so the
     * idle timeout starts again. A live page's own refreshes do not touch: a dashboard left open still times out.
     */
    public Uni<Optional<Session>> find(String token, boolean touch) {
        if (token == null || token.length() != 43) {
            return Uni.createFrom().item(Optional.empty());
        }
        Instant now = Instant.now();
        Instant idleSince = now.minus(config.console().sessionIdle());
        String hash = AuditHashes.sha256Hex(token);
        return pool.preparedQuery("SELECT s.username, u.roles, s.csrf_token, s.expires_at, s.last_seen_at FROM console_session s "
                + "JOIN app_user u ON u.username = s.username "
                + "WHERE s.token_hash = $1 AND NOT u.disabled AND s.expires_at > $2 AND s.last_seen_at > $3")
                .execute(Tuple.of(hash, utc(now), utc(idleSince)))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        return Uni.createFrom().item(Optional.<Session>empty());
                    }
                    Row row = rows.iterator().next();
                    Session session = new Session(row.getString("username"), Roles.effective(roles(row.getString("roles"))),
                            row.getString("csrf_token"), row.getOffsetDateTime("expires_at").toInstant());
                    Instant lastSeen = row.getOffsetDateTime("last_seen_at").toInstant();
                    if (!touch || lastSeen.plus(TOUCH_EVERY).isAfter(now)) {
                        return Uni.createFrom().item(Optional.of(session));
                    }
                    return pool.preparedQuery("UPDATE console_session SET last_seen_at = $2 WHERE token_hash = $1")
                            .execute(Tuple.of(hash, utc(now))).map(ignored -> Optional.of(session));
                });
    }

    /** Ends the session of this cookie value (logout). */
    public Uni<Boolean> close(String token) {
        if (token == null) {
            return Uni.createFrom().item(false);
        }
        return pool.preparedQuery("DELETE FROM console_session WHERE token_hash = $1").execute(Tuple.of(AuditHashes.sha256Hex(token)))
                .map(rows -> rows.rowCount() > 0);
    }

    /** Ends every session of a user (password changed, user deleted or disabled). */
    public Uni<Integer> closeAll(String username) {
        return pool.preparedQuery("DELETE FROM console_session WHERE username = $1").execute(Tuple.of(username)).map(rows -> rows.rowCount());
    }

    static Set<String> roles(String csv) {
        Set<String> out = new LinkedHashSet<>();
        Arrays.stream(csv.split(",")).map(String::trim).filter(r -> !r.isEmpty()).forEach(out::add);
        return out;
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static OffsetDateTime utc(Instant at) {
        return at.atOffset(ZoneOffset.UTC);
    }
}
