package io.metalgate.evidence.witness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.LocalTsa;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TimeStampTokensTest {

    private static final byte[] HEAD = "{\"hash\":\"ab12\",\"seq\":42,\"time\":\"2026-01-01T00:00:00.000000Z\"}"
            .getBytes(StandardCharsets.UTF_8);

    private final HttpClient http = HttpClient.newHttpClient();
    private final SecureRandom random = new SecureRandom();
    private LocalTsa tsa;

    @BeforeEach
    void start() throws Exception {
        tsa = new LocalTsa().start();
    }

    @AfterEach
    void stop() {
        tsa.close();
    }

    private byte[] post(TimeStampTokens.Request request) throws Exception {
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(tsa.url())
                .header("Content-Type", "application/timestamp-query")
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.der())).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode());
        assertEquals("application/timestamp-reply", response.headers().firstValue("Content-Type").orElseThrow());
        return response.body();
    }

    private TimeStampTokens.Token stamp(byte[] data) throws Exception {
        TimeStampTokens.Request request = TimeStampTokens.request(data, random);
        return TimeStampTokens.accept(request, post(request));
    }

    private static String failure(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(TimeStampException.class, call).getMessage();
    }

    @Test
    void requestIsSha256WithPositiveNonceAndCertReq() throws Exception {
        TimeStampTokens.Request request = TimeStampTokens.request(HEAD, random);
        TimeStampRequest parsed = new TimeStampRequest(request.der());
        assertEquals(TSPAlgorithms.SHA256, parsed.getMessageImprintAlgOID());
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(HEAD), parsed.getMessageImprintDigest());
        assertArrayEquals(request.imprint(), parsed.getMessageImprintDigest());
        assertEquals(request.nonce(), parsed.getNonce());
        assertTrue(request.nonce().signum() > 0 && request.nonce().bitLength() <= 64, request.nonce().toString());
        assertTrue(parsed.getCertReq());
        assertNotEquals(request.nonce(), TimeStampTokens.request(HEAD, random).nonce());
    }

    @Test
    void roundTripOverHttpThenOfflineVerifyWithTheTsaCertificate(@TempDir Path dir) throws Exception {
        Instant before = Instant.now().minusSeconds(1);
        TimeStampTokens.Token token = stamp(HEAD);
        Instant after = Instant.now().plusSeconds(1);
        assertEquals(1, tsa.requests());
        assertTrue(!token.genTime().isBefore(before) && !token.genTime().isAfter(after), token.genTime().toString());
        assertEquals("CN=metalgate test TSA", token.tsaSubject());
        assertEquals(LocalTsa.POLICY, token.policy());
        assertTrue(token.serial().signum() > 0);

        List<X509Certificate> trusted = TimeStampTokens.readPemCertificates(tsa.writeCertificatePem(dir.resolve("tsa.pem")));
        assertEquals(List.of(tsa.certificate()), trusted);
        TimeStampTokens.Verified verified = TimeStampTokens.verify(token.der(), HEAD, trusted);
        assertEquals(new TimeStampTokens.Verified(token.genTime(), "CN=metalgate test TSA", token.serial()), verified);
    }

    @Test
    void verifyRefusesAnotherTsaEvenWithTheSameName() throws Exception {
        TimeStampTokens.Token token = stamp(HEAD);
        try (LocalTsa impostor = new LocalTsa(); LocalTsa other = new LocalTsa("CN=other TSA")) {
            String message = failure(() -> TimeStampTokens.verify(token.der(), HEAD,
                    List.of(impostor.certificate(), other.certificate())));
            assertEquals("TSA not trusted: token signed by CN=metalgate test TSA, which is none of the 2 trusted"
                    + " certificates nor issued by one", message);
        }
    }

    @Test
    void verifyWithoutTrustedCertificatesSaysHowToTrust() throws Exception {
        TimeStampTokens.Token token = stamp(HEAD);
        assertEquals("TSA not trusted: pass --tsa-cert", failure(() -> TimeStampTokens.verify(token.der(), HEAD, List.of())));
    }

    @Test
    void verifyRefusesDataChangedByOneByte() throws Exception {
        TimeStampTokens.Token token = stamp(HEAD);
        byte[] changed = HEAD.clone();
        changed[changed.length - 3] ^= 1;
        assertEquals("TSA token imprint does not match: it time-stamps other data",
                failure(() -> TimeStampTokens.verify(token.der(), changed, List.of(tsa.certificate()))));
    }

    @Test
    void acceptNamesARejection() throws Exception {
        tsa.rejectNext();
        TimeStampTokens.Request request = TimeStampTokens.request(HEAD, random);
        byte[] reply = post(request);
        assertEquals("TSA refused the request: status rejection, failInfo badRequest, statusString"
                + " \"rejected as the test asked\"", failure(() -> TimeStampTokens.accept(request, reply)));
        stamp(HEAD); // the switch is one-shot
        assertEquals(2, tsa.requests());
    }

    @Test
    void acceptRefusesATokenOverOtherData() throws Exception {
        tsa.wrongImprintNext();
        TimeStampTokens.Request request = TimeStampTokens.request(HEAD, random);
        byte[] reply = post(request);
        assertEquals("TSA token imprint does not match: it time-stamps other data",
                failure(() -> TimeStampTokens.accept(request, reply)));
    }

    @Test
    void acceptRefusesAReplyToAnotherRequest() throws Exception {
        TimeStampTokens.Request first = TimeStampTokens.request(HEAD, random);
        TimeStampTokens.Request second = TimeStampTokens.request(HEAD, random);
        byte[] replyToFirst = post(first);
        String message = failure(() -> TimeStampTokens.accept(second, replyToFirst));
        assertEquals("TSA token nonce " + first.nonce() + " does not match the request's " + second.nonce()
                + " (a replayed or foreign reply)", message);
        TimeStampTokens.accept(first, replyToFirst);
    }

    @Test
    void acceptRefusesACertificateWithoutTimeStampingUsage() throws Exception {
        tsa.noEkuCertificateNext();
        TimeStampTokens.Request request = TimeStampTokens.request(HEAD, random);
        byte[] reply = post(request);
        assertEquals("TSA certificate CN=metalgate test TSA lacks the critical id-kp-timeStamping extended key usage"
                + " (RFC 3161 2.3)", failure(() -> TimeStampTokens.accept(request, reply)));
    }

    @Test
    void alteredTokenBytesFail() throws Exception {
        TimeStampTokens.Token token = stamp(HEAD);
        List<X509Certificate> trusted = List.of(tsa.certificate());

        byte[] badSignature = token.der().clone();
        badSignature[badSignature.length - 1] ^= 1; // the last bytes are the SignerInfo's signature
        assertEquals("TSA token does not verify: signature not created by certificate.",
                failure(() -> TimeStampTokens.verify(badSignature, HEAD, trusted)));

        byte[] backdated = token.der().clone();
        int second = genTimeOffset(backdated) + 13; // yyyyMMddHHmmss: a few seconds off, within the cert's validity
        backdated[second] = (byte) ('0' + (backdated[second] - '0' + 1) % 10);
        assertEquals("TSA token does not verify: message-digest attribute value does not match calculated value",
                failure(() -> TimeStampTokens.verify(backdated, HEAD, trusted)));

        assertTrue(failure(() -> TimeStampTokens.verify(new byte[] { 1, 2, 3 }, HEAD, trusted))
                .startsWith("TSA token does not parse: "));
        TimeStampTokens.Request request = TimeStampTokens.request(HEAD, random);
        assertTrue(failure(() -> TimeStampTokens.accept(request, "<html>".getBytes(StandardCharsets.UTF_8)))
                .startsWith("TSA response does not parse: "));
    }

    /** Where the digits of the TSTInfo's genTime (the only GeneralizedTime in the token) start. */
    private static int genTimeOffset(byte[] der) {
        for (int i = 0; i + 2 < der.length; i++) {
            int length = der[i + 1];
            if (der[i] == 0x18 && length >= 15 && length <= 24 && i + 1 + length < der.length && der[i + 2] == '2'
                    && der[i + 3] == '0' && der[i + 1 + length] == 'Z') {
                return i + 2;
            }
        }
        throw new AssertionError("no GeneralizedTime in the token");
    }
}
