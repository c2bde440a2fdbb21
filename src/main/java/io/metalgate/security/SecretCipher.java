package io.metalgate.security;

import io.metalgate.common.DataDirectory;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.common.SecretFiles;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts secrets at rest (BMC passwords) with AES-256-GCM. The key comes from
 * {@code metalgate.secrets.key} (base64, 32 bytes) or is generated at first start into
 * {@code <data-dir>/secrets.key} (mode 0600). Stored form: {@code v1:} + base64(nonce ‖ ciphertext ‖ tag).
 * The associated data binds a ciphertext to its owner (e.g. the machine id), so a ciphertext copied to
 * another row does not decrypt.
 */
@Startup
@ApplicationScoped
public class SecretCipher {

    private static final String VERSION = "v1:";
    private static final int NONCE_BYTES = 12;
    private final SecretKey key;

    public SecretCipher(MetalgateConfig config, DataDirectory dataDir) {
        byte[] raw = config.secrets().key().map(k -> Base64.getDecoder().decode(k.strip()))
                .orElseGet(() -> Base64.getDecoder().decode(new String(dataDir.secret("secrets.key",
                        () -> Base64.getEncoder().encodeToString(SecretFiles.randomBytes(32)).getBytes(StandardCharsets.UTF_8)),
                        StandardCharsets.UTF_8).strip()));
        if (raw.length != 32) {
            throw new IllegalStateException("the secrets key must be 32 bytes (base64), got " + raw.length);
        }
        this.key = new SecretKeySpec(raw, "AES");
    }

    public String encrypt(String plaintext, String associatedData) {
        try {
            byte[] nonce = SecretFiles.randomBytes(NONCE_BYTES);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            return VERSION + Base64.getEncoder().encodeToString(ByteBuffer.allocate(nonce.length + ct.length).put(nonce).put(ct).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    public String decrypt(String stored, String associatedData) {
        if (!stored.startsWith(VERSION)) {
            throw new IllegalStateException("unknown secret format");
        }
        try {
            byte[] all = Base64.getDecoder().decode(stored.substring(VERSION.length()));
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, all, 0, NONCE_BYTES));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            return new String(c.doFinal(all, NONCE_BYTES, all.length - NONCE_BYTES), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a stored secret does not decrypt with this appliance's key", e);
        }
    }

    /**
     * A keyed tag (HMAC-SHA-256, hex) of {@code data} for one {@code purpose}: lets the appliance hand out a
     * value it can later recognise (the Context of a BMC's event subscription) without storing it. The
     * purpose separates keys, so a tag made for one use is worthless for another.
     */
    public String tag(String purpose, String data) {
        try {
            javax.crypto.Mac derive = javax.crypto.Mac.getInstance("HmacSHA256");
            derive.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            byte[] purposeKey = derive.doFinal(("metalgate tag: " + purpose).getBytes(StandardCharsets.UTF_8));
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(purposeKey, "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA-256 failed", e);
        }
    }

    /** Whether {@code tag} is {@link #tag}{@code (purpose, data)}, compared in constant time. */
    public boolean verifyTag(String purpose, String data, String tag) {
        return tag != null && java.security.MessageDigest.isEqual(tag(purpose, data).getBytes(StandardCharsets.UTF_8),
                tag.getBytes(StandardCharsets.UTF_8));
    }
}
