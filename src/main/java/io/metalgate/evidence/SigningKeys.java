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
 * The signature schemes of audit checkpoints, seals and key hand-overs (JDK key types; Ed25519 computed by Bouncy
 * Castle's lightweight API, no provider, so they work the same in a native image): Ed25519 for keys in a file (the
 * default), ECDSA P-256 with SHA-256 for
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

    /**
     * Ed25519 private keys as Bouncy Castle's lightweight API holds them (its public key derived once), by key. The
     * JDK's own Ed25519 takes milliseconds a signature on this machine kind — a sixth of the erase agents' benchmark
     * was certificate signing — Bouncy Castle's a small fraction of that; RFC 8032 signatures are deterministic, so
     * both give the same bytes (SigningKeysTest). A plain library call, no JCA provider: the same in a native image.
     */
    private static final java.util.Map<PrivateKey, org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters> ED25519_PRIVATE =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private static java.util.Optional<org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters> ed25519(PrivateKey key) {
        if (!(key instanceof java.security.interfaces.EdECPrivateKey ed) || !"Ed25519".equalsIgnoreCase(ed.getParams().getName())) {
            return java.util.Optional.empty();
        }
        var cached = ED25519_PRIVATE.get(key);
        if (cached != null) {
            return java.util.Optional.of(cached);
        }
        var bytes = ed.getBytes(); // empty when the key cannot leave its provider
        if (bytes.isEmpty() || bytes.get().length != org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters.KEY_SIZE) {
            return java.util.Optional.empty();
        }
        var params = new org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters(bytes.get(), 0);
        ED25519_PRIVATE.put(key, params);
        return java.util.Optional.of(params);
    }

    /** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow it. */
    private static final byte[] ED25519_SPKI_PREFIX = java.util.HexFormat.of().parseHex("302a300506032b6570032100");

    private static java.util.Optional<org.bouncycastle.crypto.params.Ed25519PublicKeyParameters> ed25519(PublicKey key) {
        byte[] spki = key.getEncoded();
        if (!"EdDSA".equals(key.getAlgorithm()) && !"Ed25519".equals(key.getAlgorithm()) || spki == null
                || spki.length != ED25519_SPKI_PREFIX.length + 32
                || !java.util.Arrays.equals(spki, 0, ED25519_SPKI_PREFIX.length, ED25519_SPKI_PREFIX, 0, ED25519_SPKI_PREFIX.length)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new org.bouncycastle.crypto.params.Ed25519PublicKeyParameters(spki, ED25519_SPKI_PREFIX.length));
    }

    public static String sign(PrivateKey key, byte[] data) {
        var ed = ed25519(key);
        if (ed.isPresent()) {
            var signer = new org.bouncycastle.crypto.signers.Ed25519Signer();
            signer.init(true, ed.get());
            signer.update(data, 0, data.length);
            return Base64.getEncoder().encodeToString(signer.generateSignature());
        }
        return signJca(key, data);
    }

    /** The JCA provider's signature (ECDSA keys, keys that cannot leave their token). */
    static String signJca(PrivateKey key, byte[] data) {
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
        var ed = key == null ? java.util.Optional.<org.bouncycastle.crypto.params.Ed25519PublicKeyParameters>empty() : ed25519(key);
        if (ed.isPresent()) {
            try {
                byte[] signature = Base64.getDecoder().decode(signatureBase64);
                var verifier = new org.bouncycastle.crypto.signers.Ed25519Signer();
                verifier.init(false, ed.get());
                verifier.update(data, 0, data.length);
                return verifier.verifySignature(signature);
            } catch (IllegalArgumentException | NullPointerException e) {
                return false;
            }
        }
        return verifyJca(key, data, signatureBase64);
    }

    /** The JCA provider's verification (ECDSA keys). */
    static boolean verifyJca(PublicKey key, byte[] data, String signatureBase64) {
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
