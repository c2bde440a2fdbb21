package io.metalgate.redfishmock;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PfxOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Many emulated Redfish BMCs behind one HTTPS listener. BMC {@code i} answers on its own loopback address
 * ({@link #address(int)}: 127.1.0.0, 127.1.0.1, …) at the same port — one socket, yet to a client each BMC
 * is a host of its own, with its own connection pool, TLS session and credentials, as in a real fleet.
 * With one BMC, every address of the listener is that BMC.
 *
 * <p>Run: {@code redfish-mocks/run --bmcs 10000 --profile mixed} (see redfish-mocks/README.md).
 */
public final class RedfishMock implements AutoCloseable {

    /** What to start. {@code profiles} are assigned round-robin to the BMCs. */
    public record Options(int bmcs, List<Profile> profiles, String bindHost, int port, String username, String password,
            Path keystore, int eventLoops, int firstAddress) {

        /** BMC {@code i} at {@link #address(int) address(i)}. */
        public Options(int bmcs, List<Profile> profiles, String bindHost, int port, String username, String password, Path keystore,
                int eventLoops) {
            this(bmcs, profiles, bindHost, port, username, password, keystore, eventLoops, 0);
        }

        /** BMC {@code i} at {@code address(first + i)}: emulators started side by side in one test run never share an address. */
        public Options withFirstAddress(int first) {
            return new Options(bmcs, profiles, bindHost, port, username, password, keystore, eventLoops, first);
        }

        public static Options one(Profile profile) {
            return new Options(1, List.of(profile), "127.0.0.1", 0, "admin", "redfish-secret", null, 1);
        }

        public Options withPort(int p) {
            return new Options(bmcs, profiles, bindHost, p, username, password, keystore, eventLoops, firstAddress);
        }

        public Options withBind(String host) {
            return new Options(bmcs, profiles, host, port, username, password, keystore, eventLoops, firstAddress);
        }

        public Options withKeystore(Path k) {
            return new Options(bmcs, profiles, bindHost, port, username, password, k, eventLoops, firstAddress);
        }
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final List<MockBmc> bmcs;
    private final Map<String, MockBmc> byAddress = new LinkedHashMap<>();
    private final Options options;
    private final String certificateSha256;

    private RedfishMock(Vertx vertx, HttpServer server, List<MockBmc> bmcs, Options options, String certificateSha256) {
        this.vertx = vertx;
        this.server = server;
        this.bmcs = bmcs;
        this.options = options;
        this.certificateSha256 = certificateSha256;
        for (int i = 0; i < bmcs.size(); i++) {
            byAddress.put(address(options.firstAddress() + i), bmcs.get(i));
        }
        // EventService pushes: a BMC POSTs each event to its subscriber, once, and never waits on it
        var eventClient = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setTrustAll(true).setVerifyHost(false)
                .setConnectTimeout(5000).setMaxPoolSize(16));
        for (MockBmc bmc : bmcs) {
            bmc.events.deliverWith((sub, event) -> {
                java.net.URI to = java.net.URI.create(sub.destination());
                boolean tls = to.getScheme().equals("https");
                eventClient.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
                        .setSsl(tls).setHost(to.getHost()).setPort(to.getPort() > 0 ? to.getPort() : tls ? 443 : 80)
                        .setURI(to.getRawPath() + (to.getRawQuery() == null ? "" : "?" + to.getRawQuery()))
                        .putHeader("Content-Type", "application/json"))
                        .compose(req -> req.send(event.encode()))
                        .onComplete(ar -> (ar.succeeded() && ar.result().statusCode() < 300 ? eventsDelivered : eventsFailed).incrementAndGet());
            });
        }
    }

    private final java.util.concurrent.atomic.AtomicInteger eventsDelivered = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger eventsFailed = new java.util.concurrent.atomic.AtomicInteger();

    /** Events the subscribers accepted (2xx) and those that failed, since the start. */
    public int eventsDelivered() {
        return eventsDelivered.get();
    }

    public int eventsFailed() {
        return eventsFailed.get();
    }

    /** Loopback address of BMC {@code i}. */
    /** Loopback address of this emulator's BMC {@code i}. */
    public String addressOf(int i) {
        return address(options.firstAddress() + i);
    }

    /** Loopback address number {@code i}. */
    public static String address(int i) {
        return "127." + (1 + i / 65536) + "." + (i / 256 % 256) + "." + (i % 256);
    }

    public static RedfishMock start(Options o) {
        try {
            Path keystore = o.keystore() != null ? o.keystore() : selfSignedKeystore(Files.createTempDirectory("redfish-mock"));
            if (!Files.exists(keystore)) {
                selfSignedKeystore(keystore.getParent(), keystore);
            }
            List<MockBmc> bmcs = new ArrayList<>(o.bmcs());
            for (int i = 0; i < o.bmcs(); i++) {
                bmcs.add(new MockBmc(i, o.profiles().get(i % o.profiles().size()), o.username(), o.password()));
            }
            Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, o.eventLoops())));
            HttpServerOptions so = new HttpServerOptions().setHost(o.bindHost()).setPort(o.port()).setSsl(true)
                    .setKeyCertOptions(new PfxOptions().setPath(keystore.toString()).setPassword(STORE_PASSWORD))
                    .setAcceptBacklog(4096).setIdleTimeout(120).setIdleTimeoutUnit(TimeUnit.SECONDS);
            if (io.vertx.core.net.OpenSSLEngineOptions.isAvailable() && !Boolean.getBoolean("redfish-mocks.jdk-tls")) {
                so.setSslEngineOptions(new io.vertx.core.net.OpenSSLEngineOptions()); // BoringSSL: 10,000 BMCs' handshakes on one host
            }
            RedfishMock[] self = new RedfishMock[1];
            HttpServer server = vertx.createHttpServer(so).requestHandler(req -> self[0].serve(req)).connectionHandler(c -> {
                self[0].connections.incrementAndGet();
                c.closeHandler(v -> self[0].connections.decrementAndGet());
            });
            self[0] = new RedfishMock(vertx, server, bmcs, o, fingerprint(keystore));
            server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return self[0];
        } catch (Exception e) {
            throw new IllegalStateException("could not start the Redfish mock: " + e.getMessage(), e);
        }
    }

    private final java.util.concurrent.atomic.AtomicInteger maxInFlightPerBmc = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();

    /** The most requests one BMC had in flight at once, over all BMCs since the start (or the last reset). */
    public int maxInFlightPerBmc() {
        return maxInFlightPerBmc.get();
    }

    private void serve(HttpServerRequest req) {
        if (req.path().equals("/mock/stats")) {
            // the emulator's own counters, for benchmarks in another process (not part of Redfish)
            if (req.method().name().equals("DELETE")) {
                maxInFlightPerBmc.set(0);
            }
            req.response().putHeader("Content-Type", "application/json").end(new io.vertx.core.json.JsonObject()
                    .put("bmcs", bmcs.size()).put("requests", served.get()).put("maxInFlightPerBmc", maxInFlightPerBmc.get())
                    .put("openConnections", connections.get()).encode());
            return;
        }
        MockBmc bmc = bmcs.size() == 1 ? bmcs.get(0) : byAddress.get(req.connection().localAddress().hostAddress());
        if (bmc == null) {
            req.response().setStatusCode(421).end("no BMC at " + req.connection().localAddress().hostAddress());
            return;
        }
        req.body().onComplete(ar -> {
            Map<String, String> headers = new LinkedHashMap<>();
            req.headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
            String body = ar.succeeded() && ar.result().length() > 0 ? ar.result().toString() : null;
            int inFlight = bmc.inFlight.incrementAndGet();
            maxInFlightPerBmc.accumulateAndGet(inFlight, Math::max);
            served.incrementAndGet();
            if (bmc.host() != null) {
                // a real machine behind the BMC (QEMU) takes its time: keep it off the event loop
                vertx.executeBlocking(() -> bmc.handle(req.method().name(), req.uri(), headers, body), true)
                        .onComplete(done -> answer(req, bmc, done.succeeded() ? done.result()
                                : MockBmc.error(500, "Base.1.8.InternalError", String.valueOf(done.cause()))));
                return;
            }
            answer(req, bmc, bmc.handle(req.method().name(), req.uri(), headers, body));
        });
    }

    private void answer(HttpServerRequest req, MockBmc bmc, MockBmc.Response r) {
        if (r.hang()) {
            return; // never answered; the client's timeout must fire (and it stays in flight)
        }
        Runnable answer = () -> {
            bmc.inFlight.decrementAndGet();
            var resp = req.response().setStatusCode(r.status());
            r.headers().forEach(resp::putHeader);
            if (r.body() != null) {
                resp.end(r.body());
            } else {
                resp.end();
            }
        };
        long latency = bmc.faults.latencyMillis;
        if (latency > 0) {
            vertx.setTimer(latency, t -> answer.run());
        } else {
            answer.run();
        }
    }

    public int port() {
        return server.actualPort();
    }

    public MockBmc bmc(int i) {
        return bmcs.get(i);
    }

    public int size() {
        return bmcs.size();
    }

    public Options options() {
        return options;
    }

    /** SHA-256 (hex) of the DER certificate this mock presents. */
    public String certificateSha256() {
        return certificateSha256;
    }

    @Override
    public void close() {
        bmcs.stream().map(MockBmc::host).filter(java.util.Objects::nonNull).forEach(Host::close);
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing a test server: nothing to recover
        }
    }

    static final String STORE_PASSWORD = "redfish-mock";

    /** A fresh self-signed certificate, as a new BMC has, made by the JDK's keytool. */
    static Path selfSignedKeystore(Path dir) throws IOException, InterruptedException {
        return selfSignedKeystore(dir, dir.resolve("bmc-" + System.nanoTime() + ".p12"));
    }

    static Path selfSignedKeystore(Path dir, Path file) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "bmc", "-keyalg", "EC", "-groupname", "secp256r1",
                "-validity", "3650", "-dname", "CN=mock-bmc, O=metalgate redfish-mocks", "-ext", "SAN=IP:127.0.0.1",
                "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("keytool failed: " + out);
        }
        return file;
    }

    static String fingerprint(Path keystore) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, STORE_PASSWORD.toCharArray());
        }
        X509Certificate cert = (X509Certificate) ks.getCertificate("bmc");
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    }

    /** {@code --bmcs N --profile generic|idrac|ilo|supermicro|xcc|mixed --port P --user U --password W --latency-ms L --keystore F}. */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                usage("unexpected " + args[i]);
            }
            a.put(args[i].substring(2), args[i + 1]);
        }
        if (args.length % 2 != 0) {
            usage("missing value after " + args[args.length - 1]);
        }
        int n = Integer.parseInt(a.getOrDefault("bmcs", "1"));
        String profile = a.getOrDefault("profile", "generic");
        List<Profile> profiles = profile.equals("mixed") ? Profile.ALL : List.of(Profile.named(profile));
        Options o = new Options(n, profiles, a.getOrDefault("bind", n == 1 ? "127.0.0.1" : "0.0.0.0"),
                Integer.parseInt(a.getOrDefault("port", "8443")), a.getOrDefault("user", "admin"), a.getOrDefault("password", "redfish-secret"),
                a.containsKey("keystore") ? Path.of(a.get("keystore")) : null,
                Integer.parseInt(a.getOrDefault("event-loops", String.valueOf(Runtime.getRuntime().availableProcessors()))));
        RedfishMock mock = start(o);
        long latency = Long.parseLong(a.getOrDefault("latency-ms", "0"));
        for (int i = 0; i < mock.size(); i++) {
            mock.bmc(i).faults.latencyMillis = latency;
        }
        if (a.containsKey("qemu")) {
            // each BMC drives a QEMU VM of its own; --qemu DIR holds their logs and sockets
            List<String> extra = a.containsKey("qemu-args") ? List.of(a.get("qemu-args").trim().split("\\s+")) : List.of();
            for (int i = 0; i < mock.size(); i++) {
                mock.bmc(i).attach(new QemuHost(Path.of(a.get("qemu"), "bmc-" + i), mock.bmc(i).mac(1), extra));
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(mock::close));
        System.out.printf("redfish-mocks: %d BMC(s) (%s) at https://%s … %s:%d, user %s, certificate SHA-256 %s%n", n, profile,
                n == 1 ? o.bindHost() : mock.addressOf(0), mock.addressOf(n - 1), mock.port(), o.username(), mock.certificateSha256());
        System.out.flush();
        Thread.currentThread().join();
    }

    private static void usage(String problem) {
        System.err.println("redfish-mocks: " + problem + "\nusage: run [--bmcs N] [--profile generic|idrac|ilo|supermicro|xcc|mixed] "
                + "[--port 8443] [--user U] [--password W] [--latency-ms L] [--keystore FILE.p12] [--bind ADDR] [--event-loops N]"
                + " [--qemu DIR [--qemu-args 'QEMU ARGS']]");
        System.exit(2);
    }
}
