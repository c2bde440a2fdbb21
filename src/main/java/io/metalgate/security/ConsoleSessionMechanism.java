package io.metalgate.security;

import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.BaseAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpCredentialTransport;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Set;

/**
 * The console's session cookie. It is read under {@code /console} only and never when the request carries an
 * Authorization header, so the API keeps answering Basic and bearer tokens alone (and a cookie can never make a
 * cross-site request to the API count). An unknown, ended or idle session is no identity: the console's pages send
 * such a browser to the login page, the API's 401s are unchanged.
 */
@ApplicationScoped
public class ConsoleSessionMechanism implements HttpAuthenticationMechanism {

    /** The identity attribute holding the session's CSRF token. */
    public static final String CSRF_ATTRIBUTE = "csrf";
    /** The identity attribute holding the session's cookie value (logout ends that session). */
    public static final String TOKEN_ATTRIBUTE = "session-token";

    /** The header a live page's own refreshes carry (hx-headers): they do not count as use of the session. */
    public static final String AUTO_REFRESH_HEADER = "X-Metalgate-Refresh";

    /** The cookie's value, for the provider below; {@code touch}: the request is a person's. */
    public static final class SessionRequest extends BaseAuthenticationRequest {
        final String token;
        final boolean touch;

        SessionRequest(String token, boolean touch) {
            this.token = token;
            this.touch = touch;
        }
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        if (!appliesTo(context)) {
            return Uni.createFrom().nullItem();
        }
        Cookie cookie = context.request().getCookie(ConsoleSessions.COOKIE);
        if (cookie == null || cookie.getValue().isEmpty()) {
            return Uni.createFrom().nullItem();
        }
        // an ended session is no one (the page then asks to sign in), not a failed authentication
        boolean byPerson = context.request().getHeader(AUTO_REFRESH_HEADER) == null && !context.normalizedPath().equals("/console/live");
        return identityProviderManager.authenticate(new SessionRequest(cookie.getValue(), byPerson))
                .onFailure(io.quarkus.security.AuthenticationFailedException.class).recoverWithNull();
    }

    static boolean appliesTo(RoutingContext context) {
        String path = context.normalizedPath();
        return (path.equals(ConsoleSessions.COOKIE_PATH) || path.startsWith(ConsoleSessions.COOKIE_PATH + "/"))
                && context.request().getHeader(HttpHeaders.AUTHORIZATION) == null;
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        // the console answers its own "please sign in" (a redirect to the login page); elsewhere another mechanism does
        return Uni.createFrom().nullItem();
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(SessionRequest.class);
    }

    @Override
    public Uni<HttpCredentialTransport> getCredentialTransport(RoutingContext context) {
        return Uni.createFrom().item(new HttpCredentialTransport(HttpCredentialTransport.Type.COOKIE, ConsoleSessions.COOKIE));
    }

    /** Turns a session cookie into the user it belongs to, with that user's roles as they are now. */
    @ApplicationScoped
    public static class SessionIdentityProvider implements IdentityProvider<SessionRequest> {

        @Inject
        ConsoleSessions sessions;

        @Override
        public Class<SessionRequest> getRequestType() {
            return SessionRequest.class;
        }

        @Override
        public Uni<SecurityIdentity> authenticate(SessionRequest request, AuthenticationRequestContext context) {
            return sessions.find(request.token, request.touch).map(found -> found.<SecurityIdentity>map(s -> QuarkusSecurityIdentity.builder()
                    .setPrincipal(new QuarkusPrincipal(s.username())).addRoles(s.roles()).addAttribute("auth", "session")
                    .addAttribute(CSRF_ATTRIBUTE, s.csrfToken()).addAttribute(TOKEN_ATTRIBUTE, request.token).build())
                    .orElseThrow(() -> new io.quarkus.security.AuthenticationFailedException("no such session")));
        }
    }
}
