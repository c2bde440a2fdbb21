package io.metalgate.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A Redfish service that serves one static mockup directory over HTTPS, for tests: the DMTF mockups under
 * {@code src/test/resources/redfish-payloads/dmtf/} ({@link #fixture(String)}) or any directory laid out the
 * same way. {@code GET /redfish/v1/<path>} (with or without a trailing slash, query ignored) answers
 * {@code <dir>/<path>/index.json} ("short" mockups) or {@code <dir>/redfish/v1/<path>/index.json} ("tall"
 * ones), byte for byte; anything else is a 404 with a Redfish error body.
 *
 * <p>Authentication as a BMC does it: the service root ({@code /redfish}, {@code /redfish/v1}) is open;
 * everything else needs {@code Authorization: Basic} with the configured user and password, or the
 * {@code X-Auth-Token} of a live session. {@code POST /redfish/v1/SessionService/Sessions} with
 * {@code {"UserName", "Password"}} creates a session (201, {@code X-Auth-Token} and {@code Location}); the
 * session is then served at its Location and listed in the Sessions collection, and {@code DELETE} on it
 * ends it. Sessions created and deleted are counted ({@link #sessionsCreated()},
 * {@link #sessionsDeleted()}, {@link #openSessions()}) for tests of session leaks. The mockup's own
 * (static) sessions are listed too but cannot be deleted (405), nor can any static resource be changed.
 *
 * <p>TLS: a fresh self-signed certificate per server, made by the JDK's keytool as redfish-mocks'
 * {@code RedfishMock} makes its own ({@link #certificateSha256()} to pin it, {@link #clientSslContext()} to
 * trust it). Listens on a free port of {@code 127.0.0.1} unless told otherwise. JDK only (its HTTPS server),
 * plus Vert.x's {@code JsonObject} for the few bodies it writes.
 */
public final class StaticRedfish implements AutoCloseable {

    /** Where the DMTF mockups of the test resources are. */
    public static final String FIXTURES = "redfish-payloads/dmtf/";
    public static final String DEFAULT_USER = "admin";
    public static final String DEFAULT_PASSWORD = "redfish-secret";

    private static final String SESSIONS = "/redfish/v1/SessionService/Sessions";
    private static final String STORE_PASSWORD = "static-redfish";

    /** A session created through the SessionService. */
    public record Session(String id, String token, String userName, String location) {
    }

    /** One request as the server saw it: method, path (query included) and the status it answered. */
    public record Request(String method, String uri, int status) {
    }

    private final Path root;
    private final String username;
    private final String password;
    private final HttpsServer server;
    private final ExecutorService executor;
    private final X509Certificate certificate;
    private final KeyStore trustStore;
    private final Map<String, Session> sessionsById = new ConcurrentHashMap<>();
    private final Map<String, Session> sessionsByToken = new ConcurrentHashMap<>();
    private final AtomicInteger created = new AtomicInteger();
    private final AtomicInteger deleted = new AtomicInteger();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final SecureRandom random = new SecureRandom();

    private StaticRedfish(Path root, String bindAddress, String username, String password) throws Exception {
        this.root = root.toAbsolutePath().normalize();
        this.username = username;
        this.password = password;
        Path dir = Files.createTempDirectory("static-redfish");
        Path keystore = selfSignedKeystore(dir.resolve("bmc.p12"), bindAddress);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, STORE_PASSWORD.toCharArray());
        }
        Files.deleteIfExists(keystore);
        Files.deleteIfExists(dir);
        this.certificate = (X509Certificate) ks.getCertificate("bmc");
        this.trustStore = KeyStore.getInstance("PKCS12");
        trustStore.load(null, null);
        trustStore.setCertificateEntry("bmc", certificate);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, STORE_PASSWORD.toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        this.server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName(bindAddress), 0), 64);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "static-redfish-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Serves {@code dir} on a free port of 127.0.0.1, user {@value #DEFAULT_USER}, password {@value #DEFAULT_PASSWORD}. */
    public static StaticRedfish start(Path dir) {
        return start(dir, "127.0.0.1", DEFAULT_USER, DEFAULT_PASSWORD);
    }

    /** Serves {@code dir} on a free port of {@code bindAddress} (e.g. {@link RedfishMocks#freshAddress()}). */
    public static StaticRedfish start(Path dir, String bindAddress, String username, String password) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("no mockup directory at " + dir);
        }
        try {
            return new StaticRedfish(dir, bindAddress, username, password);
        } catch (Exception e) {
            throw new IllegalStateException("could not start the static Redfish service for " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The directory of the DMTF mockup {@code name} (e.g. {@code public-tower}) on the test classpath. */
    public static Path fixture(String name) {
        URL url = Thread.currentThread().getContextClassLoader().getResource(FIXTURES + name);
        if (url == null) {
            url = StaticRedfish.class.getClassLoader().getResource(FIXTURES + name);
        }
        if (url == null) {
            throw new IllegalArgumentException("no Redfish fixture " + FIXTURES + name + " on the classpath");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(url + ": " + e.getMessage(), e);
        }
    }

    public String host() {
        return server.getAddress().getAddress().getHostAddress();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code https://host:port} (no path). */
    public URI baseUri() {
        return URI.create("https://" + host() + ":" + port());
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    public Path root() {
        return root;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** SHA-256 (hex, lower case) of the DER certificate this server presents, as the Redfish client pins it. */
    public String certificateSha256() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client TLS context that trusts this server's certificate (and nothing else). */
    public SSLContext clientSslContext() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sessions created through {@code POST SessionService/Sessions} since the start. */
    public int sessionsCreated() {
        return created.get();
    }

    /** Created sessions ended by {@code DELETE} since the start. */
    public int sessionsDeleted() {
        return deleted.get();
    }

    /** Created sessions not deleted yet. */
    public int openSessions() {
        return sessionsById.size();
    }

    public List<Session> sessions() {
        return List.copyOf(sessionsById.values());
    }

    /** Every request answered, in order. */
    public List<Request> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ---------------------------------------------------------------------------------------------------

    private record Answer(int status, Map<String, String> headers, byte[] body) {

        static Answer json(int status, String body) {
            return new Answer(status, Map.of(), body.getBytes(StandardCharsets.UTF_8));
        }

        static Answer json(int status, JsonObject body) {
            return json(status, body.encodePrettily());
        }

        Answer with(String header, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(header, value);
            return new Answer(status, h, body);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        Answer a;
        try {
            byte[] body = ex.getRequestBody().readAllBytes();
            a = answer(ex, body);
        } catch (RuntimeException e) {
            a = Answer.json(500, error("Base.1.8.InternalError", "The request failed due to an internal service error: " + e));
        }
        requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().toString(), a.status()));
        if (a.body() != null && a.body().length > 0) {
            ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        }
        ex.getResponseHeaders().set("OData-Version", "4.0");
        a.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        boolean noBody = a.body() == null || a.body().length == 0 || ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(a.status(), noBody ? -1 : a.body().length);
        if (!noBody) {
            ex.getResponseBody().write(a.body());
        }
        ex.close();
    }

    private Answer answer(HttpExchange ex, byte[] body) throws IOException {
        String method = ex.getRequestMethod();
        String raw = ex.getRequestURI().getPath();
        String path = raw == null || raw.isEmpty() ? "/" : raw;
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        if (p.contains("/../") || p.endsWith("/..") || p.contains("/./") || p.contains("//") || p.contains("\\")) {
            return missing(path);
        }
        boolean read = method.equals("GET") || method.equals("HEAD");
        // the service root and the version resource are open, as on a BMC
        if (p.equals("/redfish") && read) {
            return Answer.json(200, new JsonObject().put("v1", "/redfish/v1/"));
        }
        if (p.equals("/redfish/v1") && read) {
            return file("/redfish/v1").orElseGet(() -> missing(path));
        }
        if (p.equals(SESSIONS) && method.equals("POST")) {
            return login(body);
        }
        if (!authorized(ex)) {
            return Answer.json(401, error("Base.1.8.NoValidSession",
                    "There is no valid session established with the implementation.")).with("WWW-Authenticate", "Basic realm=\"redfish\"");
        }
        if (p.startsWith(SESSIONS + "/")) {
            Session s = sessionsById.get(p.substring(SESSIONS.length() + 1));
            if (s != null) {
                if (read) {
                    return Answer.json(200, sessionBody(s));
                }
                if (method.equals("DELETE")) {
                    if (sessionsById.remove(s.id()) != null) {
                        sessionsByToken.remove(s.token());
                        deleted.incrementAndGet();
                    }
                    return new Answer(204, Map.of(), null);
                }
                return notAllowed(method, path);
            }
        }
        if (p.equals(SESSIONS) && read) {
            return Answer.json(200, sessionCollection());
        }
        Optional<Answer> f = file(p);
        if (f.isEmpty()) {
            return missing(path);
        }
        return read ? f.get() : notAllowed(method, path);
    }

    /** The mockup file for a Redfish path, if there is one inside the mockup directory. */
    private Optional<Answer> file(String redfishPath) throws IOException {
        if (!redfishPath.equals("/redfish/v1") && !redfishPath.startsWith("/redfish/v1/")) {
            return Optional.empty();
        }
        String rel = redfishPath.substring("/redfish/v1".length());
        rel = rel.startsWith("/") ? rel.substring(1) : rel;
        for (Path base : List.of(root, root.resolve("redfish").resolve("v1"))) {
            Path f = (rel.isEmpty() ? base : base.resolve(rel)).resolve("index.json").normalize();
            if (f.startsWith(root) && Files.isRegularFile(f)) {
                return Optional.of(new Answer(200, Map.of(), Files.readAllBytes(f)));
            }
        }
        return Optional.empty();
    }

    /** Valid Basic credentials, or the X-Auth-Token of a live session (a token, when sent, decides alone). */
    private boolean authorized(HttpExchange ex) {
        String token = ex.getRequestHeaders().getFirst("X-Auth-Token");
        if (token != null) {
            return sessionsByToken.containsKey(token);
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        try {
            String pair = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
            return pair.equals(username + ":" + password);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private Answer login(byte[] body) {
        JsonObject in;
        try {
            in = new JsonObject(new String(body, StandardCharsets.UTF_8));
        } catch (DecodeException | ClassCastException e) {
            return Answer.json(400, error("Base.1.8.MalformedJSON",
                    "The request body submitted was malformed JSON and could not be parsed by the receiving service."));
        }
        Object user = in.getValue("UserName");
        Object pass = in.getValue("Password");
        if (!(user instanceof String) || !(pass instanceof String)) {
            return Answer.json(400, error("Base.1.8.PropertyMissing",
                    "The property UserName or Password is a required property and must be included in the request."));
        }
        if (!user.equals(username) || !pass.equals(password)) {
            return Answer.json(401, error("Base.1.8.NoValidSession",
                    "There is no valid session established with the implementation."));
        }
        byte[] id = new byte[8];
        byte[] token = new byte[24];
        random.nextBytes(id);
        random.nextBytes(token);
        String sid = HexFormat.of().withUpperCase().formatHex(id);
        Session s = new Session(sid, HexFormat.of().formatHex(token), username, SESSIONS + "/" + sid);
        sessionsById.put(s.id(), s);
        sessionsByToken.put(s.token(), s);
        created.incrementAndGet();
        return Answer.json(201, sessionBody(s)).with("X-Auth-Token", s.token()).with("Location", s.location());
    }

    private static JsonObject sessionBody(Session s) {
        return new JsonObject().put("@odata.type", "#Session.v1_7_0.Session").put("Id", s.id()).put("Name", "User Session")
                .put("UserName", s.userName()).put("@odata.id", s.location());
    }

    /** The mockup's Sessions collection (if it has one) with the live sessions added. */
    private JsonObject sessionCollection() throws IOException {
        JsonObject c;
        Optional<Answer> f = file(SESSIONS);
        if (f.isPresent()) {
            c = new JsonObject(new String(f.get().body(), StandardCharsets.UTF_8));
        } else {
            c = new JsonObject().put("@odata.type", "#SessionCollection.SessionCollection").put("Name", "Session Collection")
                    .put("Members", new JsonArray()).put("@odata.id", SESSIONS);
        }
        JsonArray members = c.getJsonArray("Members", new JsonArray()).copy();
        List<Session> live = new ArrayList<>(sessionsById.values());
        live.forEach(s -> members.add(new JsonObject().put("@odata.id", s.location())));
        return c.put("Members", members).put("Members@odata.count", members.size());
    }

    private Answer missing(String uri) {
        return Answer.json(404, error("Base.1.8.ResourceMissingAtURI", "The resource at the URI '" + uri + "' was not found.", uri));
    }

    private Answer notAllowed(String method, String uri) {
        return Answer.json(405, error("Base.1.8.OperationNotAllowed", "The " + method + " operation is not allowed on '" + uri
                + "': this is a static mockup.")).with("Allow", "GET, HEAD");
    }

    private static JsonObject error(String messageId, String message, String... args) {
        JsonObject info = new JsonObject().put("@odata.type", "#Message.v1_1_1.Message").put("MessageId", messageId)
                .put("Message", message).put("MessageArgs", new JsonArray(List.of((Object[]) args))).put("Severity", "Critical");
        return new JsonObject().put("error", new JsonObject().put("code", messageId).put("message", message)
                .put("@Message.ExtendedInfo", new JsonArray().add(info)));
    }

    /** A fresh self-signed EC certificate, as redfish-mocks' RedfishMock makes one: by the JDK's keytool. */
    private static Path selfSignedKeystore(Path file, String bindAddress) throws IOException, InterruptedException {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        String san = "SAN=IP:127.0.0.1" + (bindAddress.equals("127.0.0.1") ? "" : ",IP:" + bindAddress);
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "bmc", "-keyalg", "EC", "-groupname", "secp256r1",
                "-validity", "3650", "-dname", "CN=static-redfish, O=metalgate tests", "-ext", san, "-storetype", "PKCS12",
                "-keystore", file.toString(), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("keytool failed: " + out);
        }
        return file;
    }
}
