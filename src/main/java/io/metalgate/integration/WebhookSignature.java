package io.metalgate.integration;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of a webhook, Stripe's scheme: header {@code t=<unix seconds>,v1=<hex>[,v1=<hex>...]},
 * where each v1 is HMAC-SHA256 over {@code "<t>.<raw body>"} with the integration's secret (several v1
 * while a secret is being rolled). The timestamp bounds replays to the tolerance window; within it, a
 * replayed message is the same event again (idempotent by its id). Pure: no I/O, no clock of its own.
 */
public final class WebhookSignature {

    private static final HexFormat HEX = HexFormat.of();

    private WebhookSignature() {
    }

    /** The header value for {@code body} signed at {@code t} (for senders, tests and outbound webhooks). */
    public static String header(byte[] secret, long t, byte[] body) {
        return "t=" + t + ",v1=" + HEX.formatHex(mac(secret, t, body));
    }

    /**
     * Why {@code header} does not prove {@code body} came from the holder of {@code secret} at a time within
     * {@code tolerance} of {@code now}; empty when it does.
     */
    public static Optional<String> refusal(String header, byte[] secret, byte[] body, Instant now, Duration tolerance) {
        if (header == null || header.isBlank()) {
            return Optional.of("no signature header");
        }
        Long t = null;
        List<byte[]> signatures = new ArrayList<>();
        for (String part : header.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                return Optional.of("malformed signature header (expected t=...,v1=...)");
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            if (key.equals("t")) {
                if (t != null || !value.matches("[0-9]{1,12}")) {
                    return Optional.of("malformed signature timestamp");
                }
                t = Long.parseLong(value);
            } else if (key.equals("v1")) {
                if (!value.matches("[0-9a-fA-F]{64}")) {
                    return Optional.of("malformed v1 signature (expected 64 hex digits)");
                }
                signatures.add(HEX.parseHex(value.toLowerCase(java.util.Locale.ROOT)));
            }
            // other schemes (v0, ...) are ignored, as Stripe's receivers do
        }
        if (t == null) {
            return Optional.of("signature header has no timestamp t=");
        }
        if (signatures.isEmpty()) {
            return Optional.of("signature header has no v1 signature");
        }
        long skew = Math.abs(now.getEpochSecond() - t);
        if (skew > tolerance.toSeconds()) {
            return Optional.of("signature timestamp " + t + " is " + skew + " s from the appliance's time, outside the tolerance of "
                    + tolerance.toSeconds() + " s (a replay, or a clock that is off)");
        }
        byte[] expected = mac(secret, t, body);
        for (byte[] candidate : signatures) {
            if (MessageDigest.isEqual(expected, candidate)) {
                return Optional.empty();
            }
        }
        return Optional.of("no v1 signature matches the body (wrong secret, or the body was changed)");
    }

    /** Zendesk's signature of {@code body} at {@code timestamp} (as its header carries it): base64(HMAC-SHA256(timestamp + body)). */
    public static String zendesk(byte[] secret, String timestamp, byte[] body) {
        return java.util.Base64.getEncoder().encodeToString(hmac(secret, timestamp.getBytes(StandardCharsets.UTF_8), body));
    }

    /**
     * Zendesk's scheme (developer.zendesk.com/documentation/webhooks/verifying): {@code X-Zendesk-Webhook-Signature} holds
     * base64(HMAC-SHA256 over the {@code X-Zendesk-Webhook-Signature-Timestamp} value followed directly by the raw body).
     * The timestamp (ISO-8601) must be within {@code tolerance} of {@code now}. Empty when it holds.
     */
    public static Optional<String> zendeskRefusal(String signature, String timestamp, byte[] secret, byte[] body, Instant now, Duration tolerance) {
        if (signature == null || signature.isBlank()) {
            return Optional.of("no signature header");
        }
        if (timestamp == null || timestamp.isBlank()) {
            return Optional.of("no signature timestamp header");
        }
        Instant at;
        try {
            at = Instant.parse(timestamp.strip());
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.of("malformed signature timestamp (expected ISO-8601, e.g. 2021-06-07T15:06:50Z)");
        }
        long skew = Math.abs(now.getEpochSecond() - at.getEpochSecond());
        if (skew > tolerance.toSeconds()) {
            return Optional.of("signature timestamp " + timestamp.strip() + " is " + skew + " s from the appliance's time, outside the tolerance of "
                    + tolerance.toSeconds() + " s (a replay, or a clock that is off)");
        }
        byte[] given;
        try {
            given = java.util.Base64.getDecoder().decode(signature.strip());
        } catch (IllegalArgumentException e) {
            return Optional.of("malformed signature (expected base64)");
        }
        return MessageDigest.isEqual(hmac(secret, timestamp.getBytes(StandardCharsets.UTF_8), body), given) ? Optional.empty()
                : Optional.of("the signature does not match the body (wrong secret, or the body was changed)");
    }

    private static byte[] hmac(byte[] secret, byte[] prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(prefix);
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] mac(byte[] secret, long t, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }
}
