package io.metalgate.testing;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The audit witnesses' real peers, for {@code @QuarkusTest}s whose profile lists this resource: a directory
 * for the file witness, an HTTP receiver for the webhook (the JDK's server), an SMTP server (GreenMail, a real
 * mail server in this JVM) for e-mail, and an RFC 3161 time-stamp authority ({@link LocalTsa}).
 */
public class WitnessPeers implements QuarkusTestResourceLifecycleManager {

    public static final String WEBHOOK_SECRET = "witness-webhook-secret";
    public static final String AUDITOR = "auditor@example.test";

    /** A webhook delivery as received. */
    public record Received(String body, String signature) {
    }

    private static Path dir;
    private static HttpServer webhook;
    private static final List<Received> received = new CopyOnWriteArrayList<>();
    private static final AtomicInteger failNext = new AtomicInteger();
    private static GreenMail mail;
    private static LocalTsa tsa;

    @Override
    public Map<String, String> start() {
        try {
            dir = Path.of("target", "test-witnesses", UUID.randomUUID().toString()).toAbsolutePath();
            Files.createDirectories(dir);
            webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            webhook.createContext("/heads", exchange -> {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                int status = 200;
                if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    status = 503;
                } else {
                    received.add(new Received(body, exchange.getRequestHeaders().getFirst("Metalgate-Signature")));
                }
                byte[] answer = ("{\"stored\":" + (status == 200) + "}").getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, answer.length);
                exchange.getResponseBody().write(answer);
                exchange.close();
            });
            webhook.start();
            int smtp;
            try (ServerSocket s = new ServerSocket(0)) {
                smtp = s.getLocalPort();
            }
            mail = new GreenMail(new ServerSetup(smtp, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
            mail.start();
            tsa = new LocalTsa().start();
            Path tsaCert = tsa.writeCertificatePem(dir.resolve("tsa.pem"));
            return Map.ofEntries(
                    Map.entry("metalgate.audit.witness.file", dir.resolve("heads.jsonl").toString()),
                    Map.entry("metalgate.audit.witness.webhook-url",
                            "http://127.0.0.1:" + webhook.getAddress().getPort() + "/heads"),
                    Map.entry("metalgate.audit.witness.webhook-secret", WEBHOOK_SECRET),
                    Map.entry("metalgate.audit.witness.email-to", AUDITOR),
                    Map.entry("metalgate.audit.witness.tsa-url", tsa.url().toString()),
                    Map.entry("metalgate.audit.witness.tsa-cert", tsaCert.toString()),
                    Map.entry("metalgate.audit.witness.tsa-tokens-file", dir.resolve("tsa-tokens.jsonl").toString()),
                    Map.entry("metalgate.audit.witness.poll-interval", "PT0.5S"),
                    Map.entry("metalgate.audit.witness.max-backoff", "PT1S"),
                    Map.entry("quarkus.mailer.mock", "false"),
                    Map.entry("quarkus.mailer.host", "127.0.0.1"),
                    Map.entry("quarkus.mailer.port", String.valueOf(smtp)),
                    Map.entry("quarkus.mailer.from", "metalgate@example.test"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the witness peers", e);
        }
    }

    @Override
    public void stop() {
        if (webhook != null) {
            webhook.stop(0);
        }
        if (mail != null) {
            mail.stop();
        }
        if (tsa != null) {
            tsa.close();
        }
    }

    public static Path dir() {
        return dir;
    }

    public static List<Received> webhookReceived() {
        return received;
    }

    /** The webhook answers 503 to the next {@code n} deliveries. */
    public static void failWebhook(int n) {
        failNext.set(n);
    }

    public static GreenMail mail() {
        return mail;
    }

    public static LocalTsa tsa() {
        return tsa;
    }
}
