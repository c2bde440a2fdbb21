package io.metalgate.evidence;

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
 * The appliance's Ed25519 signing key for audit checkpoints and export seals (JDK provider only, so it
 * works the same in a native image). The public key travels in every export as base64 SubjectPublicKeyInfo;
 * its fingerprint is SHA-256 of those DER bytes, hex.
 */
public final class Ed25519Keys {

    private Ed25519Keys() {
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

    public static PublicKey publicKeyFromBase64(String spkiBase64) throws GeneralSecurityException {
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(spkiBase64)));
    }

    public static String fingerprint(PublicKey key) {
        return AuditHashes.sha256Hex(key.getEncoded());
    }

    public static String sign(PrivateKey key, byte[] data) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(data);
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }

    public static boolean verify(PublicKey key, byte[] data, String signatureBase64) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(data);
            return s.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
