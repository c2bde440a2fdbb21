package io.metalgate.evidence;

import io.metalgate.common.DataDirectory;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.Base64;

/**
 * The appliance's Ed25519 audit key, generated at first start into {@code <data-dir>/audit-signing.key}
 * (mode 0600: base64 PKCS#8 private key, then base64 SubjectPublicKeyInfo, one per line).
 */
@Startup // generated at first start, not at first use
@ApplicationScoped
public class AuditSigningKey {

    private final KeyPair keyPair;
    private final String fingerprint;

    public AuditSigningKey(DataDirectory dataDir) {
        byte[] stored = dataDir.secret("audit-signing.key", () -> {
            KeyPair fresh = Ed25519Keys.generate();
            return (Base64.getEncoder().encodeToString(fresh.getPrivate().getEncoded()) + "\n"
                    + Base64.getEncoder().encodeToString(fresh.getPublic().getEncoded()) + "\n").getBytes(StandardCharsets.UTF_8);
        });
        String[] lines = new String(stored, StandardCharsets.UTF_8).strip().split("\n");
        try {
            this.keyPair = Ed25519Keys.fromEncoded(Base64.getDecoder().decode(lines[0].strip()),
                    Base64.getDecoder().decode(lines[1].strip()));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalStateException("the audit signing key in the data directory is unreadable", e);
        }
        this.fingerprint = Ed25519Keys.fingerprint(keyPair.getPublic());
    }

    public KeyPair keyPair() {
        return keyPair;
    }

    /** SHA-256 of the public key's DER form, hex: what auditors compare. */
    public String fingerprint() {
        return fingerprint;
    }

    public String publicKeyBase64() {
        return Base64.getEncoder().encodeToString(keyPair.getPublic().getEncoded());
    }

    public String sign(byte[] data) {
        return Ed25519Keys.sign(keyPair.getPrivate(), data);
    }
}
