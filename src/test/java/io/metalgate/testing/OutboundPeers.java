package io.metalgate.testing;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outbound channels' real peers: an SMTP and IMAP server (GreenMail, in this JVM) and a Vert.x HTTP server that
 * takes webhooks ({@code /hooks}: 200, or 503 to the next {@code failHooks(n)}), tickets ({@code /tickets}: 201 with a
 * ticket id) and fails everything at {@code /down} (500).
 */
public class OutboundPeers implements QuarkusTestResourceLifecycleManager {

    public static final String BOUNCES = "bounces@provider.test";
    public static final String BOUNCES_PASSWORD = "bounce-box-password";
    public static final String DOMAIN = "metalgate.test";

    /** A request as the receiver saw it. */
    public record Received(String path, String idempotencyKey, String signature, String event, String body) {
    }

    private static GreenMail mail;
    private static Vertx vertx;
    private static HttpServer http;
    private static final List<Received> received = new CopyOnWriteArrayList<>();
    private static final AtomicInteger failHooks = new AtomicInteger();
    private static final AtomicInteger tickets = new AtomicInteger();

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public Map<String, String> start() {
        try {
            int smtp = freePort();
            int imap = freePort();
            mail = new GreenMail(new ServerSetup[] {new ServerSetup(smtp, "127.0.0.1", ServerSetup.PROTOCOL_SMTP),
                    new ServerSetup(imap, "127.0.0.1", ServerSetup.PROTOCOL_IMAP)});
            mail.start();
            mail.setUser(BOUNCES, BOUNCES, BOUNCES_PASSWORD);
            vertx = Vertx.vertx();
            http = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
                String path = req.path();
                int status;
                String answer = "{}";
                if (path.startsWith("/hooks")) {
                    status = failHooks.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 503 : 200;
                } else if (path.startsWith("/tickets")) {
                    status = 201;
                    answer = "{\"id\":\"T-" + tickets.incrementAndGet() + "\"}";
                } else {
                    status = 500;
                }
                received.add(new Received(path + " " + status, req.getHeader("Idempotency-Key"), req.getHeader("Metalgate-Signature"),
                        req.getHeader("Metalgate-Event"), body.toString()));
                req.response().setStatusCode(status).putHeader("content-type", "application/json").end(answer);
            })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            Path password = Files.createTempFile("imap", ".pw");
            Files.writeString(password, BOUNCES_PASSWORD);
            return Map.ofEntries(
                    Map.entry("metalgate.outbound.enabled", "true"),
                    Map.entry("metalgate.outbound.poll-interval", "PT0.2S"),
                    Map.entry("metalgate.outbound.claim", "PT1S"),
                    Map.entry("metalgate.outbound.initial-backoff", "PT0.1S"),
                    Map.entry("metalgate.outbound.max-backoff", "PT0.4S"),
                    Map.entry("metalgate.outbound.max-attempts", "4"),
                    Map.entry("metalgate.outbound.email.from", "notices@provider.test"),
                    Map.entry("metalgate.outbound.email.message-id-domain", DOMAIN),
                    Map.entry("metalgate.outbound.email.bounce-address", BOUNCES),
                    Map.entry("metalgate.outbound.email.imap-url", "imap://127.0.0.1:" + imap + "/INBOX"),
                    Map.entry("metalgate.outbound.email.imap-user", BOUNCES),
                    Map.entry("metalgate.outbound.email.imap-password-file", password.toString()),
                    Map.entry("metalgate.outbound.email.imap-poll-interval", "PT1H"),
                    Map.entry("metalgate.notices.link-base-url", "https://metalgate.provider.test"),
                    Map.entry("metalgate.notices.link-uses", "5"),
                    Map.entry("quarkus.mailer.mock", "false"),
                    Map.entry("quarkus.mailer.host", "127.0.0.1"),
                    Map.entry("quarkus.mailer.port", String.valueOf(smtp)),
                    Map.entry("quarkus.mailer.from", "notices@provider.test"));
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the outbound peers", e);
        }
    }

    @Override
    public void stop() {
        if (mail != null) {
            mail.stop();
        }
        if (vertx != null) {
            vertx.close();
        }
    }

    public static String url(String path) {
        return "http://127.0.0.1:" + http.actualPort() + path;
    }

    public static GreenMail mail() {
        return mail;
    }

    public static List<Received> received() {
        return received;
    }

    public static void failHooks(int n) {
        failHooks.set(n);
    }
}
