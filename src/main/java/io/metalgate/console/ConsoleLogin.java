package io.metalgate.console;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.evidence.AuditLog;
import io.metalgate.security.ConsoleSessionMechanism;
import io.metalgate.security.ConsoleSessions;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.credential.PasswordCredential;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.UsernamePasswordAuthenticationRequest;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import jakarta.annotation.security.PermitAll;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.logging.Logger;

/**
 * Sign-in and sign-out of the console. The password is checked by the same identity provider as HTTP Basic
 * (Argon2id, the same answer time for unknown users); a session is opened in PostgreSQL and its token set as an
 * HttpOnly, SameSite=Strict cookie (Secure over TLS). The login form carries a token of its own (double-submit
 * cookie), so another site cannot sign a browser in under the attacker's account. Sign-in and sign-out are audited.
 */
@Path("/console")
@Tag(name = "console")
public class ConsoleLogin {

    private static final Logger LOG = Logger.getLogger(ConsoleLogin.class);
    static final String LOGIN_COOKIE = "metalgate_login";
    private static final SecureRandom RANDOM = new SecureRandom();

    @CheckedTemplate(basePath = "console")
    static class Templates {
        static native TemplateInstance login(String loginToken, String next, String message);
    }

    @Inject
    IdentityProviderManager identities;
    @Inject
    ConsoleSessions sessions;
    @Inject
    SecurityIdentity identity;
    @Inject
    AuditLog audit;
    @Inject
    MetalgateConfig config;
    @Inject
    LoginThrottle throttle;
    @Context
    HttpServerRequest request;

    @GET
    @Path("/login")
    @PermitAll
    @Produces(MediaType.TEXT_HTML)
    @Operation(summary = "Console: the sign-in page")
    public Response loginPage(@QueryParam("next") String next) {
        return loginForm(safeNext(next), null, 200);
    }

    @POST
    @Path("/login")
    @PermitAll
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_HTML)
    @Operation(summary = "Console: sign in (opens a session; the cookie is HttpOnly and SameSite=Strict)")
    public Uni<Response> login(@FormParam("username") String username, @FormParam("password") String password,
            @FormParam("_login") String loginToken, @FormParam("next") String next, @CookieParam(LOGIN_COOKIE) String loginCookie,
            @CookieParam(ConsoleSessions.COOKIE) String earlierSession) {
        String target = safeNext(next);
        if (loginToken == null || loginCookie == null
                || !MessageDigest.isEqual(loginToken.getBytes(StandardCharsets.UTF_8), loginCookie.getBytes(StandardCharsets.UTF_8))) {
            return Uni.createFrom().item(loginForm(target, "This form has expired; please sign in again.", 403));
        }
        if (username == null || username.isBlank() || password == null || password.isEmpty() || username.length() > 64 || password.length() > 1024) {
            return Uni.createFrom().item(loginForm(target, "Wrong user name or password.", 401));
        }
        String remote = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
        String user = username.trim();
        if (!throttle.allowed(user, String.valueOf(remote), System.nanoTime())) {
            LOG.warnf("console sign-in of user %s from %s refused: too many failed attempts", user.replaceAll("[^A-Za-z0-9._@-]", "?"), remote);
            return Uni.createFrom().item(loginForm(target, "Too many failed sign-ins: wait 15 minutes and try again.", 429));
        }
        // counted as failed before the password is checked (Argon2id takes a while): parallel guesses cannot slip in
        // before the first failure is known; a success takes it back
        throttle.failed(user, String.valueOf(remote), System.nanoTime());
        return identities.authenticate(new UsernamePasswordAuthenticationRequest(username, new PasswordCredential(password.toCharArray())))
                .invoke(who -> throttle.succeeded(user, String.valueOf(remote)))
                // signing in again ends this browser's earlier session (no second live cookie for one browser)
                .call(who -> earlierSession == null ? Uni.createFrom().voidItem() : sessions.close(earlierSession).replaceWithVoid())
                .chain(who -> sessions.open(who.getPrincipal().getName(), who.getRoles(), remote)
                        .call(opened -> audit.append(opened.session().username(), "console.signed-in", "user:" + opened.session().username(),
                                Map.of("remote", String.valueOf(remote))))
                        .map(opened -> Response.seeOther(URI.create(target)).cookie(sessionCookie(opened.token()), clear(LOGIN_COOKIE, "/console/login"))
                                .build()))
                .onFailure(AuthenticationFailedException.class).recoverWithItem(e -> {
                    LOG.infof("console sign-in refused for user %s from %s", username.replaceAll("[^A-Za-z0-9._@-]", "?"), remote);
                    return loginForm(target, "Wrong user name or password.", 401);
                });
    }

    @POST
    @Path("/logout")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_HTML)
    @jakarta.annotation.security.RolesAllowed(io.metalgate.security.Roles.VIEWER) // every signed-in person holds viewer
    @Operation(summary = "Console: sign out (ends the session on the server)")
    public Uni<Response> logout(@FormParam("_csrf") String csrf) {
        Response toLogin = Response.seeOther(URI.create("/console/login")).cookie(clear(ConsoleSessions.COOKIE, ConsoleSessions.COOKIE_PATH)).build();
        String expected = identity.getAttribute(ConsoleSessionMechanism.CSRF_ATTRIBUTE);
        String token = identity.getAttribute(ConsoleSessionMechanism.TOKEN_ATTRIBUTE);
        if (expected == null || csrf == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), csrf.getBytes(StandardCharsets.UTF_8))) {
            throw new ConsoleResource.CsrfRefused();
        }
        String user = identity.getPrincipal().getName();
        return sessions.close(token).call(() -> audit.append(user, "console.signed-out", "user:" + user, Map.of())).map(ignored -> toLogin);
    }

    private Response loginForm(String next, String message, int status) {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        NewCookie cookie = new NewCookie.Builder(LOGIN_COOKIE).value(token).path("/console/login").httpOnly(true).secure(secure())
                .sameSite(NewCookie.SameSite.STRICT).maxAge(3600).build();
        return Response.status(status).type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8")).header("Cache-Control", "no-store").cookie(cookie)
                .entity(Templates.login(token, next, message).render()).build();
    }

    private NewCookie sessionCookie(String token) {
        // no Max-Age: the browser forgets it when closed; the server ends it after idle or maximum time anyway
        return new NewCookie.Builder(ConsoleSessions.COOKIE).value(token).path(ConsoleSessions.COOKIE_PATH).httpOnly(true).secure(secure())
                .sameSite(NewCookie.SameSite.STRICT).build();
    }

    private NewCookie clear(String name, String path) {
        return new NewCookie.Builder(name).value("").path(path).httpOnly(true).secure(secure()).sameSite(NewCookie.SameSite.STRICT).maxAge(0).build();
    }

    private boolean secure() {
        return switch (config.console().secureCookie()) {
            case "always" -> true;
            case "never" -> false;
            default -> "https".equals(request.scheme());
        };
    }

    /** Only a path of the console: a link to {@code //evil.example} or {@code https://…} is not followed. */
    static String safeNext(String next) {
        if (next == null || !(next.equals("/console") || next.startsWith("/console/")) || next.contains("//") || next.contains("\\")
                || next.chars().anyMatch(c -> c < 0x21 || c >= 0x7f) || next.startsWith("/console/login")) {
            return "/console";
        }
        try {
            URI.create(next);
        } catch (IllegalArgumentException e) {
            return "/console"; // not a URI ("/console/<x", "/console/%zz"): the redirect would fail after the sign-in
        }
        return next;
    }

    /** {@code /} opens the console (the start line of the appliance points there). */
    @ApplicationScoped
    static class RootRedirect {
        /**
         * Every console answer (pages, errors, static files): scripts only from the appliance itself (no inline script, no
         * eval: htmx is configured so), no framing, no MIME sniffing; inline styles stay allowed for the printable
         * evidence and certificate pages.
         */
        static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                + "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

        void install(@Observes Router router) {
            router.get("/").order(-100).handler(rc -> rc.response().setStatusCode(303).putHeader("Location", "/console").end());
            router.routeWithRegex("^/console(/.*)?$").order(-100).handler(rc -> {
                rc.addHeadersEndHandler(v -> {
                    var h = rc.response().headers();
                    h.set("Content-Security-Policy", CSP);
                    h.set("X-Frame-Options", "DENY");
                    h.set("X-Content-Type-Options", "nosniff");
                    h.set("Referrer-Policy", "same-origin");
                    if ("https".equals(rc.request().scheme())) {
                        h.set("Strict-Transport-Security", "max-age=31536000");
                    }
                });
                rc.next();
            });
        }
    }
}
