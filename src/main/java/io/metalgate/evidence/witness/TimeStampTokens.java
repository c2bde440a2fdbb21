package io.metalgate.evidence.witness;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.DefaultCMSSignatureAlgorithmNameGenerator;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TSPException;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenInfo;

/**
 * RFC 3161 time-stamping, the codec only: the bytes to POST to a time-stamping authority
 * ({@code application/timestamp-query}), the check of its reply, and the offline check of a kept token.
 * Transport is the caller's (the appliance's Camel route posts {@link Request#der()} itself).
 *
 * <p>A token proves that the data's SHA-256 existed at {@code genTime}, as signed by the TSA: a signed audit
 * head that has been time-stamped cannot later be replaced by one the appliance signed afterwards.
 *
 * <p>Native-image friendly: BouncyCastle is used for ASN.1 and CMS only; signatures are checked through the
 * JDK's JCA (no BouncyCastle provider is registered) and digests by BouncyCastle's lightweight classes.
 */
public final class TimeStampTokens {

    /** The request to post, and what its reply must echo. */
    public record Request(byte[] der, BigInteger nonce, byte[] imprint) {
    }

    /** A token the TSA granted for a request; {@code der} is the token (CMS SignedData) to keep. */
    public record Token(byte[] der, Instant genTime, BigInteger serial, String tsaSubject, String policy) {
    }

    /** What an offline check of a token established. */
    public record Verified(Instant genTime, String tsaSubject, BigInteger serial) {
    }

    /** RFC 3161 section 2.4.2: the failure bits a TSA may set, in bit order. */
    private static final List<Map.Entry<Integer, String>> FAIL_INFO = List.of(Map.entry(PKIFailureInfo.badAlg, "badAlg"),
            Map.entry(PKIFailureInfo.badRequest, "badRequest"), Map.entry(PKIFailureInfo.badDataFormat, "badDataFormat"),
            Map.entry(PKIFailureInfo.timeNotAvailable, "timeNotAvailable"),
            Map.entry(PKIFailureInfo.unacceptedPolicy, "unacceptedPolicy"),
            Map.entry(PKIFailureInfo.unacceptedExtension, "unacceptedExtension"),
            Map.entry(PKIFailureInfo.addInfoNotAvailable, "addInfoNotAvailable"),
            Map.entry(PKIFailureInfo.systemFailure, "systemFailure"));

    private TimeStampTokens() {
    }

    /**
     * A request for a token over SHA-256 of {@code data}, with a random positive 64-bit nonce (so a replayed
     * old reply is refused) and certReq set, so the token carries the TSA's certificate.
     */
    public static Request request(byte[] data, SecureRandom random) {
        byte[] imprint = sha256(data);
        BigInteger nonce;
        do {
            nonce = new BigInteger(64, random);
        } while (nonce.signum() == 0);
        TimeStampRequestGenerator generator = new TimeStampRequestGenerator();
        generator.setCertReq(true);
        try {
            return new Request(generator.generate(TSPAlgorithms.SHA256, imprint, nonce).getEncoded(), nonce, imprint);
        } catch (IOException e) {
            throw new IllegalStateException("encoding a time-stamp request failed", e);
        }
    }

    /**
     * Checks the TSA's reply to {@code request}: granted, for this imprint and nonce, signed by the certificate
     * it carries, which is a time-stamping certificate. Whether that TSA is trusted is {@link #verify}'s
     * question; this only makes sure the token is worth keeping.
     */
    public static Token accept(Request request, byte[] responseDer) throws TimeStampException {
        TimeStampResponse response;
        try {
            response = new TimeStampResponse(responseDer);
        } catch (TSPException | IOException | RuntimeException e) {
            throw new TimeStampException("TSA response does not parse: " + e.getMessage(), e);
        }
        int status = response.getStatus();
        if (status != PKIStatus.GRANTED && status != PKIStatus.GRANTED_WITH_MODS) {
            throw new TimeStampException("TSA refused the request: status " + statusName(status) + ", failInfo "
                    + failInfo(response.getFailInfo()) + ", statusString "
                    + (response.getStatusString() == null ? "none" : "\"" + response.getStatusString() + "\""));
        }
        TimeStampToken token = response.getTimeStampToken();
        if (token == null) {
            throw new TimeStampException("TSA granted the request (" + statusName(status) + ") but sent no token");
        }
        TimeStampTokenInfo info = token.getTimeStampInfo();
        checkImprint(info, request.imprint());
        if (!request.nonce().equals(info.getNonce())) {
            throw new TimeStampException("TSA token nonce " + info.getNonce() + " does not match the request's "
                    + request.nonce() + " (a replayed or foreign reply)");
        }
        X509CertificateHolder signer = carriedSigner(token);
        if (signer == null) {
            throw new TimeStampException("TSA token carries no signer certificate although certReq was set");
        }
        checkSignature(token, signer);
        try {
            return new Token(token.getEncoded(), info.getGenTime().toInstant(), info.getSerialNumber(),
                    toJdk(signer).getSubjectX500Principal().getName(), info.getPolicy().getId());
        } catch (IOException e) {
            throw new TimeStampException("TSA token does not re-encode: " + e.getMessage(), e);
        }
    }

    /**
     * The auditor's offline check of a kept token: it is over SHA-256 of {@code data}, and signed by a
     * time-stamping certificate that is one of {@code trusted} or whose signature verifies with a trusted
     * certificate's key (a TSA certificate issued by a trusted CA). Revocation is not checked.
     */
    public static Verified verify(byte[] tokenDer, byte[] data, Collection<X509Certificate> trusted)
            throws TimeStampException {
        if (trusted.isEmpty()) {
            throw new TimeStampException("TSA not trusted: pass --tsa-cert");
        }
        TimeStampToken token;
        try {
            token = new TimeStampToken(new CMSSignedData(tokenDer));
        } catch (CMSException | TSPException | IOException | RuntimeException e) {
            throw new TimeStampException("TSA token does not parse: " + e.getMessage(), e);
        }
        TimeStampTokenInfo info = token.getTimeStampInfo();
        checkImprint(info, sha256(data));
        X509CertificateHolder signer = carriedSigner(token);
        if (signer == null) {
            signer = trusted.stream().map(TimeStampTokens::toHolder).filter(token.getSID()::match).findFirst()
                    .orElseThrow(() -> new TimeStampException(
                            "TSA token carries no signer certificate and none of the trusted ones is its signer"));
        }
        X509Certificate signerCert = toJdk(signer);
        if (trusted.stream().noneMatch(t -> t.equals(signerCert) || issuedBy(signerCert, t))) {
            throw new TimeStampException("TSA not trusted: token signed by " + signerCert.getSubjectX500Principal()
                    .getName() + ", which is none of the " + trusted.size() + " trusted certificates nor issued by one");
        }
        checkSignature(token, signer);
        return new Verified(info.getGenTime().toInstant(), signerCert.getSubjectX500Principal().getName(),
                info.getSerialNumber());
    }

    /** All certificates in a PEM (or DER) file, e.g. the TSA certificate an auditor passes as --tsa-cert. */
    public static List<X509Certificate> readPemCertificates(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            List<X509Certificate> certificates = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certificates.add((X509Certificate) c);
            }
            if (certificates.isEmpty()) {
                throw new IOException("no certificate in " + path);
            }
            return certificates;
        } catch (CertificateException e) {
            throw new IOException("not a PEM certificate file: " + path + ": " + e.getMessage(), e);
        }
    }

    private static void checkImprint(TimeStampTokenInfo info, byte[] expected) throws TimeStampException {
        if (!TSPAlgorithms.SHA256.equals(info.getMessageImprintAlgOID())) {
            throw new TimeStampException("TSA token imprint is " + info.getMessageImprintAlgOID() + ", not SHA-256");
        }
        if (!MessageDigest.isEqual(expected, info.getMessageImprintDigest())) {
            throw new TimeStampException("TSA token imprint does not match: it time-stamps other data");
        }
    }

    /** The certificate in the token that its SignerInfo names, or null. */
    private static X509CertificateHolder carriedSigner(TimeStampToken token) {
        Iterator<X509CertificateHolder> matches = token.getCertificates().getMatches(token.getSID()).iterator();
        return matches.hasNext() ? matches.next() : null;
    }

    /**
     * RFC 3161 section 2.3: the TSA certificate has exactly one, critical, extended key usage, id-kp-timeStamping.
     * Then BouncyCastle checks that the signed ESSCertID names this certificate, that it was valid at genTime,
     * and the signature, with the JDK's JCA.
     */
    private static void checkSignature(TimeStampToken token, X509CertificateHolder signer) throws TimeStampException {
        Extension eku = signer.getExtension(Extension.extendedKeyUsage);
        if (eku == null || !eku.isCritical()
                || !Arrays.equals(ExtendedKeyUsage.getInstance(eku.getParsedValue()).getUsages(),
                        new KeyPurposeId[] { KeyPurposeId.id_kp_timeStamping })) {
            throw new TimeStampException("TSA certificate " + signer.getSubject()
                    + " lacks the critical id-kp-timeStamping extended key usage (RFC 3161 2.3)");
        }
        try {
            token.validate(new SignerInformationVerifier(new DefaultCMSSignatureAlgorithmNameGenerator(),
                    new DefaultSignatureAlgorithmIdentifierFinder(), new JcaContentVerifierProviderBuilder().build(signer),
                    new BcDigestCalculatorProvider()));
        } catch (TSPException | OperatorCreationException | CertificateException | IllegalArgumentException e) {
            Throwable reason = e.getCause() instanceof CMSException cms ? cms : e; // BC wraps it as "CMS exception: ..."
            throw new TimeStampException("TSA token does not verify: " + reason.getMessage(), e);
        }
    }

    private static boolean issuedBy(X509Certificate cert, X509Certificate issuer) {
        if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String statusName(int status) {
        return switch (status) {
            case PKIStatus.GRANTED -> "granted";
            case PKIStatus.GRANTED_WITH_MODS -> "grantedWithMods";
            case PKIStatus.REJECTION -> "rejection";
            case PKIStatus.WAITING -> "waiting";
            case PKIStatus.REVOCATION_WARNING -> "revocationWarning";
            case PKIStatus.REVOCATION_NOTIFICATION -> "revocationNotification";
            default -> "unknown(" + status + ")";
        };
    }

    private static String failInfo(PKIFailureInfo failInfo) {
        if (failInfo == null) {
            return "none";
        }
        int bits = failInfo.intValue();
        StringJoiner names = new StringJoiner(",");
        for (Map.Entry<Integer, String> bit : FAIL_INFO) {
            if ((bits & bit.getKey()) != 0) {
                names.add(bit.getValue());
            }
        }
        return names.length() == 0 ? "0x" + Integer.toHexString(bits) : names.toString();
    }

    private static X509CertificateHolder toHolder(X509Certificate cert) {
        try {
            return new X509CertificateHolder(cert.getEncoded());
        } catch (CertificateException | IOException e) {
            throw new IllegalArgumentException("unusable trusted certificate " + cert.getSubjectX500Principal(), e);
        }
    }

    private static X509Certificate toJdk(X509CertificateHolder holder) throws TimeStampException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(holder.getEncoded()));
        } catch (CertificateException | IOException e) {
            throw new TimeStampException("TSA certificate does not parse: " + e.getMessage(), e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
