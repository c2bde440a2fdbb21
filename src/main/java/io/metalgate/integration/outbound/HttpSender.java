package io.metalgate.integration.outbound;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.lease.NoticeService;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.core.buffer.Buffer;
import io.vertx.mutiny.core.http.HttpClient;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * POSTs a webhook or ticket delivery: JSON, {@code Idempotency-Key} (the delivery's key: the same on every resend),
 * {@code Metalgate-Event}, and, when the endpoint has a secret, {@code Metalgate-Signature: t=<unix>,v1=<hex
 * HMAC-SHA256 of "t.body">} (Stripe's scheme, the one inbound webhooks check). Any 2xx is taken; the proof is the
 * status, the SHA-256 of the body sent and of the answer, and a ticket's id when the answer names one.
 */
@ApplicationScoped
public class HttpSender {

    @Inject
    Vertx vertx;
    @Inject
    OutboundConfig config;
    @Inject
    ObjectMapper mapper;

    private volatile HttpClient client;

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    client = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setConnectTimeout(5000)
                            .setMaxPoolSize(Math.max(4, config.concurrency())).setKeepAlive(true));
                }
                c = client;
            }
        }
        return c;
    }

    @PreDestroy
    void close() {
        if (client != null) {
            client.closeAndForget();
        }
    }

    /** The Stripe-style signature header's value for {@code body} at unix time {@code t}. */
    public static String signature(String secret, long t, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "t=" + t + ",v1=" + HexFormat.of().formatHex(mac.doFinal((t + "." + body).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    Uni<OutboxRelay.Sent> post(OutboxRelay.Due d, OutboundEndpoints.Endpoint ep) {
        if (ep == null) {
            return Uni.createFrom().failure(new IllegalStateException("the endpoint of " + d.key() + " no longer exists"));
        }
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(ep.url())
                .setTimeout(config.httpTimeout().toMillis())
                .putHeader("Content-Type", "application/json")
                .putHeader("Idempotency-Key", d.key())
                .putHeader("Metalgate-Event", d.action());
        if (ep.secret() != null) {
            options.putHeader("Metalgate-Signature", signature(ep.secret(), System.currentTimeMillis() / 1000, d.body()));
        }
        byte[] body = d.body().getBytes(StandardCharsets.UTF_8);
        return client().request(options).chain(req -> req.send(Buffer.buffer(body)))
                .chain(resp -> resp.body().map(answer -> {
                    int status = resp.statusCode();
                    if (status < 200 || status > 299) {
                        throw new IllegalStateException("HTTP " + status + " from " + ep.url());
                    }
                    Map<String, Object> proof = new LinkedHashMap<>();
                    proof.put("url", ep.url());
                    proof.put("status", status);
                    proof.put("bodySha256", sha256(body));
                    proof.put("responseSha256", sha256(answer.getBytes()));
                    proof.put("idempotencyKey", d.key());
                    if (d.channel() == OutboxRelay.Channel.TICKET) {
                        ticketId(answer.toString(StandardCharsets.UTF_8)).ifPresent(id -> proof.put("ticketId", id));
                    }
                    NoticeService.Outcome outcome = d.channel() == OutboxRelay.Channel.TICKET ? NoticeService.Outcome.SENT
                            // the tenant's own system took it: delivered; the provider's own systems are not a notice to the tenant
                            : ep.tenantId() != null ? NoticeService.Outcome.DELIVERED : null;
                    try {
                        return new OutboxRelay.Sent(mapper.writeValueAsString(proof), outcome);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                }));
    }

    private java.util.Optional<String> ticketId(String answer) {
        try {
            JsonNode n = mapper.readTree(answer);
            for (String f : new String[] {"id", "ticketId", "ticket_id", "key"}) {
                if (n != null && n.hasNonNull(f)) {
                    String v = n.get(f).asText();
                    return java.util.Optional.of(v.length() > 200 ? v.substring(0, 200) : v);
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // not JSON: no id
        }
        return java.util.Optional.empty();
    }
}
