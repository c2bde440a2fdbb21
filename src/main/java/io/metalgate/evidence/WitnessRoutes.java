package io.metalgate.evidence;

import io.metalgate.common.DataDirectory;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.evidence.witness.TimeStampTokens;
import io.quarkus.mailer.Mail;
import io.quarkus.mailer.Mailer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;

/**
 * The witness routes: one {@code direct:audit-witness-<kind>} route per configured witness, each taking a
 * witnessed head (canonical JSON, {@link AuditExportFormat#witnessedHead}) and answering its receipt
 * (canonical JSON: what the witness answered). A failure is an exception; {@link AuditWitnesses} retries.
 * <ul>
 * <li>file: appended as one line to a JSON Lines file and forced to disk (put it on another mount);
 * <li>webhook: POSTed as JSON with a {@code Metalgate-Signature: t=...,v1=...} HMAC-SHA256 header; any 2xx is
 * taken;
 * <li>e-mail: sent to the auditors with a Message-ID of our own, which is the receipt;
 * <li>TSA: an RFC 3161 request over the head's exact bytes, POSTed to the time-stamp authority; the token is
 * checked against the request and appended with the head to the tokens file.
 * </ul>
 */
@ApplicationScoped
public class WitnessRoutes extends RouteBuilder {

    /** Header: the checkpoint's sequence number. */
    public static final String SEQ = "MetalgateCheckpointSeq";
    private static final String TSA_REQUEST = "MetalgateTsaRequest";

    @Inject
    MetalgateConfig config;
    @Inject
    DataDirectory dataDir;
    @Inject
    Mailer mailer;

    private final SecureRandom random = new SecureRandom();

    @Override
    public void configure() {
        MetalgateConfig.Audit.Witness w = config.audit().witness();
        w.file().ifPresent(file -> from(AuditWitnesses.Kind.FILE.route()).routeId("audit-witness-file")
                .convertBodyTo(String.class)
                .process(e -> e.getMessage().setBody(appendLine(Path.of(file), e.getMessage().getBody(String.class)))));
        w.webhookUrl().ifPresent(url -> from(AuditWitnesses.Kind.WEBHOOK.route()).routeId("audit-witness-webhook")
                .convertBodyTo(String.class)
                .process(this::signWebhook)
                .removeHeaders("Metalgate*", "Metalgate-Signature", "Metalgate-Event")
                .to(httpUri(url))
                .process(e -> e.getMessage().setBody(webhookReceipt(url, e))));
        w.emailTo().filter(to -> !to.isEmpty()).ifPresent(to -> from(AuditWitnesses.Kind.EMAIL.route())
                .routeId("audit-witness-email")
                .convertBodyTo(String.class)
                .process(e -> e.getMessage().setBody(mail(to, e.getMessage().getHeader(SEQ, Long.class),
                        e.getMessage().getBody(String.class)))));
        if (w.tsaUrl().isPresent() && w.tsaCert().isEmpty()) {
            // a token from a TSA nobody pinned proves nothing (anyone on the path could have answered)
            throw new IllegalStateException("metalgate.audit.witness.tsa-url needs metalgate.audit.witness.tsa-cert: "
                    + "the PEM certificate of the time-stamp authority");
        }
        w.tsaUrl().ifPresent(url -> from(AuditWitnesses.Kind.TSA.route()).routeId("audit-witness-tsa")
                .convertBodyTo(String.class)
                .process(this::timeStampRequest)
                .removeHeaders("Metalgate*", TSA_REQUEST)
                .to(httpUri(url))
                .process(this::timeStampAccept));
    }

    /** camel-http with bounded timeouts; a non-2xx answer throws, so the delivery is retried. */
    private static String httpUri(String url) {
        String sep = url.contains("?") ? "&" : "?";
        return url + sep + "httpMethod=POST&throwExceptionOnFailure=true&connectTimeout=5000&responseTimeout=15000"
                + "&soTimeout=15000&connectionRequestTimeout=5000";
    }

    /** Appends {@code line} and forces it to disk; the receipt names the file and the line's digest. */
    static String appendLine(Path file, String line) throws IOException {
        java.util.concurrent.locks.ReentrantLock lock = LOCKS.computeIfAbsent(file.toAbsolutePath(),
                f -> new java.util.concurrent.locks.ReentrantLock());
        try {
            // one writer per file; a writer stuck on a hung mount does not pile up the others behind it
            if (!lock.tryLock(30, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IOException("the witness file " + file + " has been busy for 30 s (a hung mount?)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        try {
            return append(file, line);
        } finally {
            lock.unlock();
        }
    }

    private static final java.util.concurrent.ConcurrentMap<Path, java.util.concurrent.locks.ReentrantLock> LOCKS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static String append(Path file, String line) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        return receipt(Map.of("file", file.toAbsolutePath().toString(), "lineSha256", AuditHashes.sha256Hex(line)));
    }

    private void signWebhook(Exchange e) throws GeneralSecurityException {
        String body = e.getMessage().getBody(String.class);
        e.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        e.getMessage().setHeader("Metalgate-Event", "audit.head");
        config.audit().witness().webhookSecret().ifPresent(secret -> {
            long t = System.currentTimeMillis() / 1000;
            e.getMessage().setHeader("Metalgate-Signature", "t=" + t + ",v1=" + hmac(secret, t + "." + body));
        });
    }

    static String hmac(String secret, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static String webhookReceipt(String url, Exchange e) {
        byte[] body = e.getMessage().getBody(byte[].class);
        return receipt(Map.of("url", url, "status", e.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class),
                "bodySha256", AuditHashes.sha256Hex(body == null ? new byte[0] : body)));
    }

    /** Sends the head to the auditors; our own Message-ID is the receipt (and what a reply refers to). */
    private String mail(List<String> to, Long seq, String head) {
        String messageId = "<audit-head-" + seq + "-" + UUID.randomUUID() + "@metalgate>";
        Mail mail = Mail.withText(to.get(0), "metalgate audit head " + seq, "The metalgate audit log reached this signed "
                + "head. Keep this message: `metalgate audit verify EXPORT --witness FILE` checks an export against "
                + "heads saved one per line.\n\n" + head + "\n")
                .setFrom(config.audit().witness().emailFrom())
                .addHeader("Message-ID", messageId);
        to.stream().skip(1).forEach(mail::addTo);
        mailer.send(mail);
        return receipt(Map.of("messageId", messageId, "to", to));
    }

    private void timeStampRequest(Exchange e) {
        byte[] head = e.getMessage().getBody(String.class).getBytes(StandardCharsets.UTF_8);
        TimeStampTokens.Request request = TimeStampTokens.request(head, random);
        e.setProperty(TSA_REQUEST, request);
        e.setProperty("MetalgateHead", e.getMessage().getBody(String.class));
        e.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/timestamp-query");
        e.getMessage().setBody(request.der());
    }

    private void timeStampAccept(Exchange e) throws Exception {
        TimeStampTokens.Request request = e.getProperty(TSA_REQUEST, TimeStampTokens.Request.class);
        String head = e.getProperty("MetalgateHead", String.class);
        TimeStampTokens.Token token = TimeStampTokens.accept(request, e.getMessage().getBody(byte[].class));
        List<X509Certificate> pinned = TimeStampTokens.readPemCertificates(Path.of(config.audit().witness().tsaCert().orElseThrow()));
        TimeStampTokens.verify(token.der(), head.getBytes(StandardCharsets.UTF_8), pinned);
        String tokenB64 = Base64.getEncoder().encodeToString(token.der());
        Path tokens = config.audit().witness().tsaTokensFile().map(Path::of)
                .orElse(dataDir.root().resolve("witness").resolve("tsa-tokens.jsonl"));
        appendLine(tokens, AuditExportFormat.timeStampedHead(head, tokenB64));
        Map<String, Object> r = new TreeMap<>();
        r.put("genTime", token.genTime().toString());
        r.put("serial", token.serial().toString());
        r.put("tsa", token.tsaSubject());
        r.put("token", tokenB64);
        r.put("tokensFile", tokens.toAbsolutePath().toString());
        e.getMessage().setBody(receipt(r));
    }

    private static String receipt(Map<String, ?> fields) {
        return CanonicalJson.write(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(new TreeMap<>(fields)));
    }
}
