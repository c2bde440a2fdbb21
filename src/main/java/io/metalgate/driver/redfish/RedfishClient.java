package io.metalgate.driver.redfish;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.DriverException.Kind;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.jboss.logging.Logger;

/**
 * HTTPS to Redfish BMCs, for thousands at once without a thread per BMC (Vert.x). Per BMC (host:port):
 * at most {@code connections-per-bmc} connections (more requests queue), one session, one circuit
 * breaker, one pinned certificate. A request that times out, finds the BMC unreachable or gets a 5xx is
 * retried with doubling backoff — a POST only when it cannot have been carried out (unreachable, 503), so a
 * reset is never sent twice. Logs in through the SessionService (X-Auth-Token): one session per BMC, always —
 * concurrent first requests share one login (single flight), a token refused with 401 is replaced once
 * (whoever saw it first logs in again, the others use the new token) and the replaced session is deleted,
 * {@link #release} logs out, and so does shutdown for every BMC — because small BMCs allow 2 to 8 sessions.
 * Falls back to Basic when the BMC has no usable session service or its session table is full. Errors come
 * out as {@link DriverException} naming the BMC.
 */
@ApplicationScoped
public class RedfishClient {

    private static final Logger LOG = Logger.getLogger(RedfishClient.class);

    /** An answer: status, the headers the driver uses, and the JSON body (empty object when none). */
    public record Reply(int status, Map<String, String> headers, JsonObject body) {

        public Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name.toLowerCase(java.util.Locale.ROOT)));
        }
    }

    /** What the client keeps per BMC. */
    private static final class BmcState {
        final CircuitBreaker breaker;
        volatile String token;
        volatile String sessionUri;
        volatile boolean basicOnly;
        /** Why the session login was refused when Basic took its place: a full session table, or none at all. */
        volatile boolean sessionTableFull;
        volatile JsonObject serviceRoot;
        /** The login in flight, which every request that needs a session waits for (guarded by this). */
        java.util.concurrent.CompletableFuture<Map<String, String>> login;
        volatile BmcEndpoint endpoint;

        BmcState(CircuitBreaker breaker) {
            this.breaker = breaker;
        }
    }

    @Inject
    Vertx vertx;
    @Inject
    MetalgateConfig config;

    private final CertificatePins pins = new CertificatePins();
    private final Map<String, BmcState> states = new ConcurrentHashMap<>();
    private volatile HttpClient http;

    public CertificatePins pins() {
        return pins;
    }

    private HttpClient http() {
        HttpClient h = http;
        if (h == null) {
            synchronized (this) {
                if (http == null) {
                    var c = config.redfish();
                    TrustOptions trust = c.trustCa().<TrustOptions>map(ca -> new PemTrustOptions().addCertPath(ca))
                            .orElse(TrustOptions.wrap(pins));
                    HttpClientOptions options = new HttpClientOptions().setSsl(true).setTrustOptions(trust)
                            // BMC certificates name no host we could check: they are pinned instead (or CA-checked)
                            .setVerifyHost(false).setConnectTimeout((int) c.connectTimeout().toMillis()).setKeepAlive(true)
                            .setKeepAliveTimeout(60).setDecompressionSupported(true);
                    if (c.openssl() && io.vertx.core.net.OpenSSLEngineOptions.isAvailable()) {
                        // BoringSSL: a TLS handshake costs a fraction of JSSE's pure-Java EC (cold sweeps, docs/benchmarks.md)
                        options.setSslEngineOptions(new io.vertx.core.net.OpenSSLEngineOptions());
                    }
                    http = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(c.connectionsPerBmc()));
                }
                h = http;
            }
        }
        return h;
    }

    /**
     * Logs out of every BMC at shutdown (at most a few seconds), while Vert.x still runs: leaving sessions
     * behind fills small BMC session tables until they expire.
     */
    void logoutAtShutdown(@jakarta.enterprise.event.Observes io.quarkus.runtime.ShutdownEvent stop) {
        if (http == null) {
            return;
        }
        try {
            releaseAll().await().atMost(Duration.ofSeconds(5).plus(config.redfish().connectTimeout()));
        } catch (RuntimeException e) {
            LOG.warnf("Logging out of the BMCs at shutdown did not finish: %s", e.getMessage());
        }
    }

    @PreDestroy
    void close() {
        if (http != null) {
            try {
                http.close();
            } catch (IllegalStateException alreadyClosed) {
                // Vert.x closed it first
            }
        }
    }

    /** Logs out of every BMC this client holds a session with; failures are logged, never thrown. */
    public Uni<Void> releaseAll() {
        java.util.List<Uni<Void>> logouts = new java.util.ArrayList<>();
        for (String key : java.util.List.copyOf(states.keySet())) {
            BmcState st = states.remove(key);
            BmcEndpoint bmc = st == null ? null : st.endpoint;
            if (bmc != null && st.token != null && st.sessionUri != null) {
                logouts.add(logout(bmc, st.sessionUri, st.token));
            }
        }
        return logouts.isEmpty() ? Uni.createFrom().voidItem()
                : Uni.join().all(logouts).andCollectFailures().replaceWithVoid().onFailure().recoverWithNull();
    }

    private Uni<Void> logout(BmcEndpoint bmc, String sessionUri, String token) {
        return send(bmc, HttpMethod.DELETE, sessionUri, null, Map.of("X-Auth-Token", token)).replaceWithVoid()
                .onFailure().invoke(e -> LOG.debugf("logout from %s failed: %s", bmc, e.getMessage())).onFailure().recoverWithNull();
    }

    private BmcState state(BmcEndpoint bmc) {
        BmcState st = states.computeIfAbsent(bmc.key(), k -> new BmcState(new CircuitBreaker(config.redfish().breakerFailures(),
                config.redfish().breakerCooldown())));
        st.endpoint = bmc; // the newest credentials, for logging out at shutdown
        return st;
    }

    /** Is the breaker of this BMC open (calls fail fast)? */
    public boolean circuitOpen(BmcEndpoint bmc) {
        return state(bmc).breaker.open(System.nanoTime());
    }

    public Uni<Reply> get(BmcEndpoint bmc, String path) {
        return call(bmc, HttpMethod.GET, path, null, Map.of());
    }

    public Uni<Reply> post(BmcEndpoint bmc, String path, JsonObject body) {
        return call(bmc, HttpMethod.POST, path, body, Map.of());
    }

    public Uni<Reply> patch(BmcEndpoint bmc, String path, JsonObject body, Optional<String> ifMatch) {
        return call(bmc, HttpMethod.PATCH, path, body, ifMatch.map(e -> Map.of("If-Match", e)).orElse(Map.of()));
    }

    public Uni<Reply> delete(BmcEndpoint bmc, String path) {
        return call(bmc, HttpMethod.DELETE, path, null, Map.of());
    }

    /** The service root (unauthenticated, cached per BMC until {@link #release}). */
    public Uni<JsonObject> serviceRoot(BmcEndpoint bmc) {
        BmcState st = state(bmc);
        if (st.serviceRoot != null) {
            return Uni.createFrom().item(st.serviceRoot);
        }
        return withRetries(bmc, HttpMethod.GET, () -> send(bmc, HttpMethod.GET, "/redfish/v1", null, Map.of()))
                .map(r -> {
                    st.serviceRoot = r.body();
                    return r.body();
                });
    }

    /** Logs out (DELETE of the session) and forgets what is cached for this BMC. */
    public Uni<Void> release(BmcEndpoint bmc) {
        BmcState st = states.remove(bmc.key());
        if (st == null || st.token == null || st.sessionUri == null) {
            return Uni.createFrom().voidItem();
        }
        return logout(bmc, st.sessionUri, st.token);
    }

    private Uni<Reply> call(BmcEndpoint bmc, HttpMethod method, String path, JsonObject body, Map<String, String> headers) {
        return withRetries(bmc, method, () -> authenticated(bmc, method, path, body, headers));
    }

    private Uni<Reply> withRetries(BmcEndpoint bmc, HttpMethod method, java.util.function.Supplier<Uni<Reply>> attempt) {
        var c = config.redfish();
        BmcState st = state(bmc);
        Uni<Reply> once = Uni.createFrom().deferred(() -> {
            long now = System.nanoTime();
            if (!st.breaker.allow(now)) {
                return Uni.createFrom().failure(new DriverException(Kind.CIRCUIT_OPEN, bmc + ": " + c.breakerFailures()
                        + " failures in a row; calls fail fast for " + c.breakerCooldown().toSeconds() + " s before a trial"));
            }
            return attempt.get().onItemOrFailure().transformToUni((reply, failure) -> {
                if (failure == null) {
                    st.breaker.success();
                    return Uni.createFrom().item(reply);
                }
                if (failure instanceof DriverException d && d.transient_()) {
                    LOG.debugf("%s", d.getMessage());
                    st.breaker.failure(System.nanoTime());
                } else {
                    st.breaker.success(); // the BMC answered: it is alive, the request was wrong
                }
                return Uni.createFrom().failure(failure);
            });
        });
        if (c.retries() <= 0) {
            return once;
        }
        return once.onFailure(f -> retryable(method, f)).retry().withBackOff(c.retryBackoff(), c.retryBackoff().multipliedBy(8))
                .atMost(c.retries());
    }

    /** GET, PATCH and DELETE are idempotent; a POST is retried only when it surely was not carried out. */
    private static boolean retryable(HttpMethod method, Throwable f) {
        if (!(f instanceof DriverException d) || !d.transient_()) {
            return false;
        }
        if (method == HttpMethod.POST) {
            return d.kind() == Kind.UNREACHABLE || d.status() == 503;
        }
        return true;
    }

    private Uni<Reply> authenticated(BmcEndpoint bmc, HttpMethod method, String path, JsonObject body, Map<String, String> headers) {
        BmcState st = state(bmc);
        return credentials(bmc, st).chain(auth -> send(bmc, method, path, body, merge(headers, auth))
                .onFailure(f -> f instanceof DriverException d && d.status() == 401 && auth.containsKey("X-Auth-Token"))
                .recoverWithUni(f -> {
                    // the session is gone (timed out, BMC rebooted) or refused: log in again, once for everyone
                    replaceToken(bmc, st, auth.get("X-Auth-Token"));
                    return credentials(bmc, st).chain(again -> send(bmc, method, path, body, merge(headers, again)));
                })
                .onFailure(f -> f instanceof DriverException d && d.status() == 401 && st.token == null && st.basicOnly)
                .transform(f -> {
                    // Basic refused too: say why there was no session (the table is full) rather than blame the password
                    st.basicOnly = false; // try a session again next time
                    return st.sessionTableFull
                            ? new DriverException(Kind.SESSION_LIMIT, 401, bmc + ": the BMC's session table is full and it refuses "
                                    + "Basic authentication; close sessions on the BMC or wait for them to expire", f)
                            : new DriverException(Kind.AUTHENTICATION, 401, bmc + ": the BMC refused the credentials of " + bmc.username()
                                    + " (Basic; it has no usable session service)", f);
                }));
    }

    /**
     * Forgets {@code refused} as the BMC's token, unless another request already replaced it, and deletes its
     * session on the BMC (where it may still hold a slot of a small session table).
     */
    private void replaceToken(BmcEndpoint bmc, BmcState st, String refused) {
        String uri;
        synchronized (st) {
            if (refused == null || !refused.equals(st.token)) {
                return;
            }
            uri = st.sessionUri;
            st.token = null;
            st.sessionUri = null;
        }
        if (uri != null) {
            logout(bmc, uri, refused).subscribe().with(v -> {
            });
        }
    }

    private static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
        Map<String, String> m = new java.util.HashMap<>(a);
        m.putAll(b);
        return m;
    }

    /**
     * The header that authenticates: the session token (logging in first if needed), or Basic. Concurrent
     * callers that find no token share one login.
     */
    private Uni<Map<String, String>> credentials(BmcEndpoint bmc, BmcState st) {
        java.util.concurrent.CompletableFuture<Map<String, String>> mine;
        synchronized (st) {
            if (st.token != null) {
                return Uni.createFrom().item(Map.of("X-Auth-Token", st.token));
            }
            if (st.basicOnly) {
                return Uni.createFrom().item(basic(bmc));
            }
            if (st.login != null) {
                return Uni.createFrom().completionStage(st.login);
            }
            mine = new java.util.concurrent.CompletableFuture<>();
            st.login = mine;
        }
        login(bmc, st).subscribe().with(auth -> {
            synchronized (st) {
                st.login = null;
            }
            mine.complete(auth);
        }, failure -> {
            synchronized (st) {
                st.login = null;
            }
            mine.completeExceptionally(failure);
        });
        return Uni.createFrom().completionStage(mine);
    }

    private Uni<Map<String, String>> login(BmcEndpoint bmc, BmcState st) {
        return serviceRoot(bmc).chain(root -> {
            String sessions = Optional.ofNullable(root.getJsonObject("Links")).map(l -> l.getJsonObject("Sessions"))
                    .map(s -> s.getString("@odata.id")).orElse("/redfish/v1/SessionService/Sessions");
            JsonObject login = new JsonObject().put("UserName", bmc.username()).put("Password", bmc.password());
            return send(bmc, HttpMethod.POST, sessions, login, Map.of()).map(r -> {
                String token = r.header("X-Auth-Token").orElseThrow(() -> new DriverException(Kind.MALFORMED_RESPONSE,
                        bmc + ": login answered " + r.status() + " without an X-Auth-Token"));
                synchronized (st) {
                    st.token = token;
                    st.sessionUri = r.header("Location").map(RedfishClient::pathOf).orElse(r.body().getString("@odata.id"));
                }
                return Map.of("X-Auth-Token", token);
            }).onFailure(f -> f instanceof DriverException d && d.kind() == Kind.BMC_ERROR && d.status() != 401).recoverWithItem(f -> {
                // no session service, or its table is full: Basic on every request (DSP0266 allows both)
                LOG.debugf("%s: session login failed (%s); using Basic authentication", bmc, f.getMessage());
                st.basicOnly = true;
                st.sessionTableFull = f.getMessage().contains("SessionLimitExceeded") || ((DriverException) f).status() == 503;
                return basic(bmc);
            }).onFailure(f -> f instanceof DriverException d && d.status() == 401).transform(f -> new DriverException(Kind.AUTHENTICATION,
                    401, bmc + ": the BMC refused the credentials of " + bmc.username(), null));
        });
    }

    private static Map<String, String> basic(BmcEndpoint bmc) {
        return Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString((bmc.username() + ":" + bmc.password())
                .getBytes(StandardCharsets.UTF_8)));
    }

    static String pathOf(String location) {
        int i = location.indexOf("/redfish/");
        return i >= 0 ? location.substring(i) : location;
    }

    /** One HTTP exchange; every failure becomes a DriverException. */
    private Uni<Reply> send(BmcEndpoint bmc, HttpMethod method, String path, JsonObject body, Map<String, String> headers) {
        pins.expect(bmc.key(), bmc.certificateSha256());
        Duration timeout = config.redfish().requestTimeout();
        RequestOptions ro = new RequestOptions().setMethod(method).setHost(bmc.host()).setPort(bmc.port()).setURI(path)
                .setSsl(true).setTimeout(timeout.toMillis()).setConnectTimeout(config.redfish().connectTimeout().toMillis()).putHeader("Accept", "application/json")
                .putHeader("OData-Version", "4.0");
        headers.forEach(ro::putHeader);
        if (body != null) {
            ro.putHeader("Content-Type", "application/json");
        }
        Buffer payload = body == null ? null : body.toBuffer();
        // how far the exchange got, for the error when the deadline passes
        java.util.concurrent.atomic.AtomicReference<String> stage = new java.util.concurrent.atomic.AtomicReference<>("waiting for a connection");
        // body() is called in the same callback that receives the response, on the connection's event
        // loop: composed one step later, the end of a short answer could pass before it (a call then
        // waited for its deadline with the whole answer received)
        var future = http().request(ro).compose(req -> {
            stage.set("request sent on " + req.connection().localAddress() + ", waiting for the answer");
            return (payload == null ? req.send() : req.send(payload)).compose(resp -> {
                stage.set("answer " + resp.statusCode() + " received, reading its body");
                return resp.body().map(b -> toReply(bmc, method, path, resp, b));
            });
        }).compose(reply -> {
            // hand the answer on at the next turn of the event loop: by then the connection is back in
            // the pool, so the caller's next request reuses it instead of opening a second one (which
            // doubled the TLS handshakes and sockets of a fleet sweep)
            io.vertx.core.Promise<Reply> next = io.vertx.core.Promise.promise();
            io.vertx.core.Context ctx = vertx.getOrCreateContext();
            ctx.runOnContext(v -> next.complete(reply));
            return next.future();
        });
        // a hard deadline over the whole exchange (waiting for a pooled connection included): a call
        // always ends, whatever the BMC or the pool do
        Duration deadline = timeout.plus(config.redfish().connectTimeout());
        return Uni.createFrom().completionStage(future.toCompletionStage())
                .ifNoItem().after(deadline).failWith(() -> new DriverException(Kind.TIMEOUT, 0, bmc + ": " + method + " " + path
                        + ": no answer within " + deadline.toMillis() + " ms (" + stage.get() + ")", null))
                .onFailure().transform(f -> f instanceof DriverException ? f : translate(bmc, method, path, f));
    }

    private Reply toReply(BmcEndpoint bmc, HttpMethod method, String path, HttpClientResponse resp, Buffer b) {
        Map<String, String> h = new java.util.HashMap<>();
        for (String name : new String[] {"ETag", "Location", "X-Auth-Token", "Retry-After"}) {
            String v = resp.getHeader(name);
            if (v != null) {
                h.put(name.toLowerCase(java.util.Locale.ROOT), v);
            }
        }
        int status = resp.statusCode();
        JsonObject json;
        if (b.length() == 0) {
            json = new JsonObject();
        } else {
            try {
                json = new JsonObject(b);
            } catch (DecodeException | ClassCastException e) {
                String start = b.toString(StandardCharsets.UTF_8);
                throw new DriverException(Kind.MALFORMED_RESPONSE, status, bmc + ": " + method + " " + path + " answered " + status
                        + " with a body that is not JSON: " + (start.length() > 80 ? start.substring(0, 80) + "…" : start), e);
            }
        }
        if (status >= 400) {
            throw new DriverException(Kind.BMC_ERROR, status, bmc + ": " + method + " " + path + " answered " + status + ": "
                    + redfishMessage(json), null);
        }
        return new Reply(status, h, json);
    }

    /** The message of a Redfish error body (error.message, or its first @Message.ExtendedInfo). */
    static String redfishMessage(JsonObject body) {
        JsonObject error = body.getJsonObject("error");
        if (error == null) {
            return "(no Redfish error body)";
        }
        var info = error.getJsonArray("@Message.ExtendedInfo");
        String extended = info != null && !info.isEmpty() && info.getValue(0) instanceof JsonObject o ? o.getString("Message") : null;
        String code = error.getString("code", "");
        String message = error.getString("message", extended);
        return (code.isEmpty() ? "" : code + ": ") + (message == null ? "" : message)
                + (extended != null && !extended.equals(message) ? " (" + extended + ")" : "");
    }

    private DriverException translate(BmcEndpoint bmc, HttpMethod method, String path, Throwable f) {
        String what = bmc + ": " + method + " " + path;
        Optional<CertificatePins.Seen> seen = pins.seen(bmc.key());
        if (isOrCausedBy(f, SSLException.class) && seen.isPresent() && seen.get().changed()) {
            return new DriverException(Kind.CERTIFICATE_CHANGED, 0, bmc + ": the BMC presented a certificate with SHA-256 "
                    + seen.get().presentedSha256() + ", not the pinned " + seen.get().pinnedSha256() + "; nothing was sent", f);
        }
        if (isOrCausedBy(f, ConnectException.class) || f.getClass().getSimpleName().contains("ConnectTimeout")
                || String.valueOf(f.getMessage()).startsWith("Connection refused")) {
            return new DriverException(Kind.UNREACHABLE, 0, what + ": cannot connect (" + f.getMessage() + ")", f);
        }
        if (isOrCausedBy(f, TimeoutException.class) || f.getClass().getSimpleName().contains("Timeout")
                || String.valueOf(f.getMessage()).contains("timeout")) {
            return new DriverException(Kind.TIMEOUT, 0, what + ": no answer within " + config.redfish().requestTimeout().toMillis() + " ms", f);
        }
        if (isOrCausedBy(f, SSLException.class)) {
            return new DriverException(Kind.UNREACHABLE, 0, what + ": TLS failed (" + f.getMessage() + ")", f);
        }
        return new DriverException(Kind.UNREACHABLE, 0, what + ": " + f.getClass().getSimpleName() + ": " + f.getMessage(), f);
    }

    private static boolean isOrCausedBy(Throwable f, Class<? extends Throwable> type) {
        for (Throwable t = f; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
