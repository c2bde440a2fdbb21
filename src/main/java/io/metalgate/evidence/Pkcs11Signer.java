package io.metalgate.evidence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidParameterException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/**
 * Keys in a PKCS#11 token (an HSM, a smart card, SoftHSM) through the JDK's SunPKCS11 provider: the
 * private key never leaves the token, the appliance only asks it to sign. The token's keys are EC P-256
 * (SHA256withECDSA); each key entry needs its certificate in the token, which is where the public key
 * is read from (keytool creates both: docs/decisions/0011-witnessed-audit-heads.md).
 */
final class Pkcs11Signer implements AuditSigner {

    private final Provider provider;
    private final String alias;
    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private Pkcs11Signer(Provider provider, String alias, PrivateKey privateKey, PublicKey publicKey) {
        this.provider = provider;
        this.alias = alias;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** Every signing key in the token described by the SunPKCS11 configuration file {@code config}. */
    static List<Pkcs11Signer> open(Path config, Path pinFile) {
        try {
            Provider base = Security.getProvider("SunPKCS11");
            if (base == null) {
                throw new IllegalStateException("this JVM has no SunPKCS11 provider");
            }
            Provider provider = base.configure(config.toString());
            char[] pin = pinFile == null ? null : Files.readString(pinFile, StandardCharsets.UTF_8).strip().toCharArray();
            KeyStore store = KeyStore.getInstance("PKCS11", provider);
            store.load(null, pin);
            List<Pkcs11Signer> keys = new ArrayList<>();
            for (String alias : Collections.list(store.aliases())) {
                if (!store.isKeyEntry(alias)) {
                    continue;
                }
                Certificate cert = store.getCertificate(alias);
                if (store.getKey(alias, null) instanceof PrivateKey pk && cert != null && "EC".equals(pk.getAlgorithm())) {
                    keys.add(new Pkcs11Signer(provider, alias, pk, cert.getPublicKey()));
                }
            }
            return keys;
        } catch (IOException | GeneralSecurityException | ProviderException | InvalidParameterException e) {
            // SunPKCS11 reports a bad configuration or slot as runtime exceptions, and the reason (CKR_PIN_INCORRECT,
            // CKR_SLOT_ID_INVALID) only in a cause: "load failed", "Initialization failed" alone say nothing
            throw new IllegalStateException("cannot open the PKCS#11 token of " + config + ": " + reasons(e), e);
        }
    }

    /** The messages along the cause chain, e.g. "load failed: CKR_PIN_INCORRECT" (never the PIN itself). */
    private static String reasons(Throwable e) {
        List<String> messages = new ArrayList<>();
        for (Throwable t = e; t != null && messages.size() < 5; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank() && !messages.contains(t.getMessage())) {
                messages.add(t.getMessage());
            }
        }
        return messages.isEmpty() ? e.getClass().getSimpleName() : String.join(": ", messages);
    }

    String alias() {
        return alias;
    }

    @Override
    public PublicKey publicKey() {
        return publicKey;
    }

    @Override
    public String sign(byte[] data) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA", provider);
            s.initSign(privateKey);
            s.update(data);
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the PKCS#11 token refused to sign with " + alias + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String source() {
        return "PKCS#11 token " + provider.getName() + ", key " + alias;
    }
}
