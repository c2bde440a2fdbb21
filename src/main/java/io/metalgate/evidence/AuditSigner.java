package io.metalgate.evidence;

import java.security.PublicKey;

/** A private key that signs audit checkpoints, seals and key hand-overs: a key file or a PKCS#11 token's key. */
public interface AuditSigner {

    PublicKey publicKey();

    /** SHA-256 of the public key's DER form, hex: what auditors compare and pin. */
    default String fingerprint() {
        return SigningKeys.fingerprint(publicKey());
    }

    /** The signature over {@code data}, base64 (scheme by key type: {@link SigningKeys}). */
    String sign(byte[] data);

    /** Where the key lives, for the operator (never the key itself). */
    String source();
}
