package io.metalgate.evidence;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * The signature schemes of audit checkpoints, seals and key hand-overs (JDK providers only, so they work
 * the same in a native image): Ed25519 for keys in a file (the default), ECDSA P-256 with SHA-256 for
 * keys in a PKCS#11 token (what tokens commonly offer; the JDK's PKCS#11 provider has no EdDSA). A public
 * key travels as base64 SubjectPublicKeyInfo; its fingerprint is SHA-256 of those DER bytes, hex. The
 * scheme follows from the key, so a verifier needs nothing but the key.
 */
public final class SigningKeys {

    private SigningKeys() {
    }

    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is not available in this JVM", e);
        }
    }

    public static KeyPair fromEncoded(byte[] pkcs8, byte[] spki) throws GeneralSecurityException {
        KeyFactory kf = KeyFactory.getInstance("Ed25519");
        return new KeyPair(kf.generatePublic(new X509EncodedKeySpec(spki)), kf.generatePrivate(new PKCS8EncodedKeySpec(pkcs8)));
    }

    /** An Ed25519 or EC public key from its base64 SubjectPublicKeyInfo. */
    public static PublicKey publicKeyFromBase64(String spkiBase64) throws GeneralSecurityException {
        return publicKey(Base64.getDecoder().decode(spkiBase64));
    }

    public static PublicKey publicKey(byte[] spki) throws GeneralSecurityException {
        GeneralSecurityException first = null;
        for (String algorithm : new String[] {"Ed25519", "EC"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(spki));
            } catch (GeneralSecurityException e) {
                first = first == null ? e : first;
            }
        }
        throw first;
    }

    /** A PEM "PUBLIC KEY" block, as written to {@code <data-dir>/audit-public-key.pem}. */
    public static String pem(PublicKey key) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded());
        return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
    }

    /** The key in a PEM "PUBLIC KEY" block (or bare base64 SubjectPublicKeyInfo). */
    public static PublicKey fromPem(String text) throws GeneralSecurityException {
        String body = text.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
        try {
            return publicKey(Base64.getDecoder().decode(body));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("not a PEM public key", e);
        }
    }

    public static String fingerprint(PublicKey key) {
        return AuditHashes.sha256Hex(key.getEncoded());
    }

    /** The JCA signature algorithm for a key of this kind. */
    static String scheme(java.security.Key key) {
        return "EC".equals(key.getAlgorithm()) ? "SHA256withECDSA" : "Ed25519";
    }

    public static String sign(PrivateKey key, byte[] data) {
        try {
            Signature s = Signature.getInstance(scheme(key));
            s.initSign(key);
            s.update(data);
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing failed", e);
        }
    }

    public static boolean verify(PublicKey key, byte[] data, String signatureBase64) {
        try {
            Signature s = Signature.getInstance(scheme(key));
            s.initVerify(key);
            s.update(data);
            return s.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (GeneralSecurityException | IllegalArgumentException | NullPointerException e) {
            return false;
        }
    }
}
