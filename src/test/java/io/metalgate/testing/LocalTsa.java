package io.metalgate.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.tsp.TimeStampResp;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampResponseGenerator;
import org.bouncycastle.tsp.TimeStampTokenGenerator;

/**
 * An RFC 3161 time-stamping authority on 127.0.0.1 for tests: a fresh EC P-256 key, a self-signed certificate
 * with the critical id-kp-timeStamping extended key usage, and {@code POST application/timestamp-query} answered
 * with {@code application/timestamp-reply}. One-shot switches make the next reply one a client must refuse.
 * JDK JCA only (no BouncyCastle provider registered).
 */
public final class LocalTsa implements AutoCloseable {

    /** The policy every token names. */
    public static final String POLICY = "1.2.3.4.1";

    private final KeyPair key;
    private final X509Certificate certificate;
    private final X509Certificate twinWithoutEku;
    private final TimeStampResponseGenerator responses;
    private final AtomicInteger requests = new AtomicInteger();
    private HttpServer server;
    private long serial;
    private boolean rejectNext;
    private boolean wrongImprintNext;
    private boolean noEkuNext;

    public LocalTsa() {
        this("CN=metalgate test TSA");
    }

    public LocalTsa(String subject) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            key = generator.generateKeyPair();
            BigInteger certSerial = new BigInteger(64, new SecureRandom());
            certificate = selfSigned(subject, certSerial, true);
            twinWithoutEku = selfSigned(subject, certSerial, false);
            TimeStampTokenGenerator tokens = new TimeStampTokenGenerator(
                    new JcaSimpleSignerInfoGeneratorBuilder().build("SHA256withECDSA", key.getPrivate(), certificate),
                    new BcDigestCalculatorProvider().get(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256)),
                    new ASN1ObjectIdentifier(POLICY));
            tokens.addCertificates(new JcaCertStore(List.of(certificate)));
            responses = new TimeStampResponseGenerator(tokens, TSPAlgorithms.ALLOWED);
        } catch (Exception e) {
            throw new IllegalStateException("cannot set up the local TSA", e);
        }
    }

    public LocalTsa start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/tsa", this::handle);
        server.start();
        return this;
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/tsa");
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public Path writeCertificatePem(Path path) throws IOException {
        try {
            String base64 = Base64.getMimeEncoder(64, new byte[] { '\n' }).encodeToString(certificate.getEncoded());
            return Files.writeString(path, "-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n");
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /** How many time-stamp queries were answered (granted or not). */
    public int requests() {
        return requests.get();
    }

    /** The next query is answered with status rejection, failInfo badRequest. */
    public synchronized void rejectNext() {
        rejectNext = true;
    }

    /** The next query is answered with a granted token over other data (same nonce). */
    public synchronized void wrongImprintNext() {
        wrongImprintNext = true;
    }

    /** The next token carries a twin of the certificate (same key, issuer and serial) without the EKU. */
    public synchronized void noEkuCertificateNext() {
        noEkuNext = true;
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"POST".equals(exchange.getRequestMethod())
                    || !"application/timestamp-query".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
                exchange.sendResponseHeaders(415, -1);
                return;
            }
            byte[] reply;
            try {
                reply = reply(new TimeStampRequest(exchange.getRequestBody().readAllBytes()));
            } catch (Exception e) {
                exchange.sendResponseHeaders(400, -1);
                return;
            }
            requests.incrementAndGet();
            exchange.getResponseHeaders().set("Content-Type", "application/timestamp-reply");
            exchange.sendResponseHeaders(200, reply.length);
            exchange.getResponseBody().write(reply);
        }
    }

    private synchronized byte[] reply(TimeStampRequest request) throws Exception {
        if (rejectNext) {
            rejectNext = false;
            return responses.generateFailResponse(PKIStatus.REJECTION, PKIFailureInfo.badRequest, "rejected as the test asked")
                    .getEncoded();
        }
        if (wrongImprintNext) {
            wrongImprintNext = false;
            TimeStampRequestGenerator other = new TimeStampRequestGenerator();
            other.setCertReq(true);
            byte[] otherImprint = MessageDigest.getInstance("SHA-256").digest("other data".getBytes(StandardCharsets.UTF_8));
            request = other.generate(TSPAlgorithms.SHA256, otherImprint, request.getNonce());
        }
        TimeStampResponse response = responses.generate(request, BigInteger.valueOf(++serial), new Date());
        if (noEkuNext) {
            noEkuNext = false;
            CMSSignedData swapped = CMSSignedData.replaceCertificatesAndCRLs(response.getTimeStampToken().toCMSSignedData(),
                    new JcaCertStore(List.of(twinWithoutEku)), null, null);
            return new TimeStampResp(new PKIStatusInfo(PKIStatus.granted), swapped.toASN1Structure()).getEncoded();
        }
        return response.getEncoded();
    }

    private X509Certificate selfSigned(String subject, BigInteger certSerial, boolean timeStampingEku) throws Exception {
        X500Name name = new X500Name(subject);
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, certSerial,
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name, key.getPublic());
        if (timeStampingEku) {
            builder.addExtension(Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_timeStamping));
        }
        return new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
    }
}
