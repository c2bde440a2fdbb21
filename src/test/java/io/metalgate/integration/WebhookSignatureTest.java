package io.metalgate.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The webhook signature scheme against a vector computed by another implementation (OpenSSL), and every way to fail it. */
class WebhookSignatureTest {

    private static final byte[] SECRET = "whsec_test_secret_0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test_secret_0123456789abcdef
    private static final String OPENSSL = "296f547a4f0b9eadfa573de7df458dfbf92032f516d3453e6c234d9a7dd753e8";
    private static final Instant AT = Instant.ofEpochSecond(1_700_000_000L);
    private static final Duration WINDOW = Duration.ofMinutes(5);

    private static String refusal(String header, byte[] secret, byte[] body, Instant now) {
        return WebhookSignature.refusal(header, secret, body, now, WINDOW).orElse(null);
    }

    @Test
    void signsAsOpenSslComputesAndAcceptsItsOwnSignature() {
        assertEquals("t=1700000000,v1=" + OPENSSL, WebhookSignature.header(SECRET, 1_700_000_000L, BODY));
        assertEquals(null, refusal("t=1700000000,v1=" + OPENSSL, SECRET, BODY, AT));
        assertEquals(null, refusal("t=1700000000,v1=" + OPENSSL.toUpperCase(), SECRET, BODY, AT.plusSeconds(300)));
        // while a secret is rolled, the sender signs with both; other schemes are ignored
        assertEquals(null, refusal("t=1700000000, v0=abc, v1=" + "0".repeat(64) + ", v1=" + OPENSSL, SECRET, BODY, AT.minusSeconds(300)));
    }

    @Test
    void refusesWhatTheSecretHolderDidNotSignThen() {
        String good = "t=1700000000,v1=" + OPENSSL;
        assertTrue(refusal(good, "another-secret".getBytes(StandardCharsets.UTF_8), BODY, AT).startsWith("no v1 signature matches"));
        assertTrue(refusal(good, SECRET, "{\"a\":2}".getBytes(StandardCharsets.UTF_8), AT).startsWith("no v1 signature matches"));
        // the timestamp is signed: moving it breaks the signature, keeping it ages out of the window
        assertTrue(refusal("t=1700000100,v1=" + OPENSSL, SECRET, BODY, AT).startsWith("no v1 signature matches"));
        assertTrue(refusal(good, SECRET, BODY, AT.plusSeconds(301)).contains("outside the tolerance of 300 s"));
        assertTrue(refusal(good, SECRET, BODY, AT.minusSeconds(301)).contains("outside the tolerance"));
        assertEquals("no signature header", refusal(null, SECRET, BODY, AT));
        assertEquals("no signature header", refusal(" ", SECRET, BODY, AT));
        assertEquals("signature header has no timestamp t=", refusal("v1=" + OPENSSL, SECRET, BODY, AT));
        assertEquals("signature header has no v1 signature", refusal("t=1700000000,v0=" + OPENSSL, SECRET, BODY, AT));
        assertEquals("malformed signature timestamp", refusal("t=17e8,v1=" + OPENSSL, SECRET, BODY, AT));
        assertEquals("malformed signature timestamp", refusal("t=1700000000,t=1700000000,v1=" + OPENSSL, SECRET, BODY, AT));
        assertTrue(refusal("t=1700000000,v1=" + OPENSSL.substring(2), SECRET, BODY, AT).startsWith("malformed v1"));
        assertTrue(refusal("t=1700000000;v1=" + OPENSSL, SECRET, BODY, AT).startsWith("malformed"));
        assertTrue(refusal("garbage", SECRET, BODY, AT).startsWith("malformed signature header"));
    }

    @Test
    void zendesksSchemeAsOpenSslComputesIt() {
        byte[] secret = "zd_secret_0123456789abcdef0123456789".getBytes(StandardCharsets.UTF_8);
        String ts = "2021-06-07T15:06:50Z";
        // printf '%s%s' 2021-06-07T15:06:50Z '{"a":1}' | openssl dgst -sha256 -hmac zd_secret_0123456789abcdef0123456789 -binary | base64
        String openssl = "wePuySsMD+Rhqv6mmmtygHWh3kpGicZ1lXqnNaEsbk0=";
        Instant at = Instant.parse(ts);
        assertEquals(openssl, WebhookSignature.zendesk(secret, ts, BODY));
        assertEquals(null, WebhookSignature.zendeskRefusal(openssl, ts, secret, BODY, at.plusSeconds(299), WINDOW).orElse(null));
        assertTrue(WebhookSignature.zendeskRefusal(openssl, ts, secret, "{\"a\":2}".getBytes(StandardCharsets.UTF_8), at, WINDOW).get()
                .startsWith("the signature does not match"));
        assertTrue(WebhookSignature.zendeskRefusal(openssl, "2021-06-07T15:06:51Z", secret, BODY, at, WINDOW).get().startsWith("the signature does not"));
        assertTrue(WebhookSignature.zendeskRefusal(openssl, ts, secret, BODY, at.plusSeconds(301), WINDOW).get().contains("outside the tolerance"));
        assertEquals("no signature timestamp header", WebhookSignature.zendeskRefusal(openssl, null, secret, BODY, at, WINDOW).get());
        assertTrue(WebhookSignature.zendeskRefusal(openssl, "1623078410", secret, BODY, at, WINDOW).get().startsWith("malformed signature timestamp"));
        assertEquals("malformed signature (expected base64)", WebhookSignature.zendeskRefusal("%%%", ts, secret, BODY, at, WINDOW).get());
    }
}
