package io.metalgate.evidence;

import io.metalgate.common.DataDirectory;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.common.SecretFiles;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The appliance's audit signing keys, kept outside the database: a key file (Ed25519; default
 * {@code <data-dir>/audit-signing.key}, mode 0600 or the appliance refuses to start) or the EC keys of a
 * PKCS#11 token. Which of them signs is decided by the fleet's key registry in the database
 * ({@code audit_key}, written only by a hand-over entry in the chain): {@link #signerFor(String)}.
 *
 * <p>At first start the key's public half is also written to {@code <data-dir>/audit-public-key.pem}
 * (read-only, never rewritten: the key pinned at install time) and its fingerprint is logged; an auditor
 * copies either and later verifies exports against it, through every rotation since.
 *
 * <p>Rotation (file keys): {@link #prepareNext} writes a fresh key to {@code audit-signing.next.key};
 * once the hand-over entry is committed {@link #promote(AuditSigner)} renames it over the old file, whose
 * private key is then gone (only its public half is kept, in the chain). A crash between the two is
 * healed by {@link #signerFor}: the registry names the next key and its hand-over entry is signed by both
 * keys, so it is promoted then; a next key the registry never names is discarded.
 */
@Startup // the key exists, is pinned and its fingerprint logged at first start, not at first use
@ApplicationScoped
public class AuditSigningKey {

    private static final Logger LOG = Logger.getLogger(AuditSigningKey.class);
    static final String PINNED_FILE = "audit-public-key.pem";

    /** A file-held Ed25519 key. */
    record FileSigner(KeyPair keyPair, Path file) implements AuditSigner {
        @Override
        public PublicKey publicKey() {
            return keyPair.getPublic();
        }

        @Override
        public String sign(byte[] data) {
            return SigningKeys.sign(keyPair.getPrivate(), data);
        }

        @Override
        public String source() {
            return "key file " + file;
        }
    }

    private final Path keyFile;
    private final Path nextFile;
    private final boolean pkcs11;
    /** Every key this appliance can sign with, by fingerprint. */
    private final Map<String, AuditSigner> available = new LinkedHashMap<>();
    private volatile AuditSigner active;
    private final Path pinnedFile;
    /** The next key prepared for a hand-over that has not happened yet (one at a time). */
    private AuditSigner pendingNext;
    /** True when {@link #pendingNext} is a next-key file found at start (a rotation interrupted by a crash). */
    private boolean leftover;

    @jakarta.inject.Inject
    public AuditSigningKey(DataDirectory dataDir, MetalgateConfig config) {
        this(dataDir.root(), config.audit().signingKey());
    }

    AuditSigningKey(Path dataDir, MetalgateConfig.Audit.SigningKey cfg) {
        this.keyFile = cfg.file().map(Path::of).orElse(dataDir.resolve("audit-signing.key")).toAbsolutePath();
        this.nextFile = keyFile.resolveSibling(stripKey(keyFile.getFileName().toString()) + ".next.key");
        this.pinnedFile = dataDir.resolve(PINNED_FILE);
        this.pkcs11 = cfg.pkcs11Config().isPresent();
        if (pkcs11) {
            List<Pkcs11Signer> keys = Pkcs11Signer.open(Path.of(cfg.pkcs11Config().get()),
                    cfg.pkcs11PinFile().map(Path::of).orElse(null));
            for (Pkcs11Signer k : keys) {
                available.put(k.fingerprint(), k);
                if (k.alias().equals(cfg.pkcs11Alias())) {
                    active = k;
                }
            }
            if (active == null) {
                throw new IllegalStateException("the PKCS#11 token has no EC key with alias " + cfg.pkcs11Alias()
                        + " (and its certificate); found " + keys.stream().map(Pkcs11Signer::alias).toList());
            }
        } else {
            boolean fresh = !Files.exists(keyFile);
            active = readKeyFile(keyFile, true);
            available.put(active.fingerprint(), active);
            if (Files.exists(nextFile)) {
                AuditSigner next = readKeyFile(nextFile, false);
                available.put(next.fingerprint(), next);
                pendingNext = next;
                leftover = true; // resolved at the first signature: promoted if the registry names it, else discarded
            }
            if (fresh) {
                LOG.infof("Generated the audit signing key in %s", keyFile);
            }
        }
        pin(active.publicKey());
        LOG.infof("Audit signing key SHA-256 fingerprint: %s (%s); pinned at install time in %s", active.fingerprint(),
                active.source(), pinnedFile);
    }

    private static String stripKey(String name) {
        return name.endsWith(".key") ? name.substring(0, name.length() - 4) : name;
    }

    /** Reads a key file (creating it when {@code create}), refusing one that others can read. */
    private static AuditSigner readKeyFile(Path file, boolean create) {
        byte[] stored = create ? SecretFiles.readOrCreate(file, AuditSigningKey::freshKeyFile) : read(file);
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            mode.removeAll(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
            if (!mode.isEmpty()) {
                throw new IllegalStateException("the audit signing key file " + file + " is open to others (mode "
                        + PosixFilePermissions.toString(Files.getPosixFilePermissions(file)) + "): chmod 600 it");
            }
        } catch (UnsupportedOperationException noPosix) {
            // not a POSIX file system: nothing to check
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String[] lines = new String(stored, StandardCharsets.UTF_8).strip().split("\n");
        try {
            return new FileSigner(SigningKeys.fromEncoded(Base64.getDecoder().decode(lines[0].strip()),
                    Base64.getDecoder().decode(lines[1].strip())), file);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalStateException("the audit signing key file " + file + " is unreadable", e);
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Base64 PKCS#8 private key, then base64 SubjectPublicKeyInfo, one per line. */
    private static byte[] freshKeyFile() {
        KeyPair fresh = SigningKeys.generate();
        return (Base64.getEncoder().encodeToString(fresh.getPrivate().getEncoded()) + "\n"
                + Base64.getEncoder().encodeToString(fresh.getPublic().getEncoded()) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Writes the pinned public key once; it is never rewritten (rotations are followed through the chain). */
    private void pin(PublicKey key) {
        if (Files.exists(pinnedFile)) {
            return;
        }
        try {
            Files.createDirectories(pinnedFile.getParent());
            Path tmp = pinnedFile.resolveSibling(PINNED_FILE + ".tmp");
            Files.writeString(tmp, SigningKeys.pem(key), StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--r--r--"));
            Files.move(tmp, pinnedFile, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the pinned audit key " + pinnedFile, e);
        }
    }

    /** The key this appliance signs with now. */
    public AuditSigner active() {
        return active;
    }

    public String fingerprint() {
        return active.fingerprint();
    }

    public String publicKeyBase64() {
        return Base64.getEncoder().encodeToString(active.publicKey().getEncoded());
    }

    public String sign(byte[] data) {
        return active.sign(data);
    }

    public Path pinnedFile() {
        return pinnedFile;
    }

    /** A key hand-over entry as the chain holds it, for checking its signatures before following it. */
    public record HandOver(long seq, String prevHash, String time, com.fasterxml.jackson.databind.JsonNode payload) {
    }

    /**
     * The key to sign with when the fleet's registry names {@code registered} as the current key; empty
     * when this appliance must not sign: it does not hold that key, or the hand-over entry that registered
     * it ({@code handOver}) is not signed by the key it hands over from and the key it hands over to — the
     * registry alone is never believed (whoever has the app's database login could write it). A key
     * followed this way becomes the active key (after a crash between a hand-over and the key file's move,
     * or a restart of a PKCS#11 appliance configured with the old alias).
     */
    public synchronized Optional<AuditSigner> signerFor(String registered, HandOver handOver) {
        if (registered == null || registered.equals(active.fingerprint())) {
            discardLeftover();
            return Optional.of(active);
        }
        AuditSigner known = available.get(registered);
        if (known == null || handOver == null || !signedHandOver(handOver, active, known)) {
            return Optional.empty();
        }
        promote(known);
        return Optional.of(known);
    }

    /** Both signatures of a hand-over from {@code from} to {@code to}, over its place in the chain. */
    static boolean signedHandOver(HandOver h, AuditSigner from, AuditSigner to) {
        var p = h.payload();
        String newKey = Base64.getEncoder().encodeToString(to.publicKey().getEncoded());
        if (!from.fingerprint().equals(p.path("previousFingerprint").asText()) || !to.fingerprint().equals(
                p.path("newFingerprint").asText()) || !newKey.equals(p.path("newPublicKey").asText())) {
            return false;
        }
        byte[] signed = AuditHashes.handOverSigningInput(h.seq(), h.prevHash(), h.time(), from.fingerprint(), to.fingerprint(),
                newKey);
        return SigningKeys.verify(from.publicKey(), signed, p.path("handOverSignature").asText())
                && SigningKeys.verify(to.publicKey(), signed, p.path("acceptanceSignature").asText());
    }

    /** A key this appliance holds, without making it active (an export sealed at a head before a hand-over). */
    public synchronized Optional<AuditSigner> holding(String fingerprint) {
        return Optional.ofNullable(available.get(fingerprint));
    }

    /** A next-key file left by a rotation that never committed: the registry still names the active key. */
    private void discardLeftover() {
        if (leftover && pendingNext != null) {
            LOG.warnf("Discarding the next audit key %s of a key hand-over that never happened", pendingNext.fingerprint());
            discardNext(pendingNext);
        }
    }

    /**
     * A fresh key to hand over to: for a key file, written to the next-key file (0600); for a PKCS#11 token,
     * the token's key with alias {@code pkcs11Alias} (created beforehand with keytool). One hand-over at a
     * time: another one while this one is pending is refused.
     */
    public synchronized AuditSigner prepareNext(Optional<String> pkcs11Alias) {
        discardLeftover();
        if (pendingNext != null) {
            throw new IllegalStateException("a key hand-over to " + pendingNext.fingerprint() + " is in progress");
        }
        AuditSigner next;
        if (pkcs11) {
            String alias = pkcs11Alias.orElseThrow(() -> new IllegalArgumentException(
                    "the signing key is in a PKCS#11 token: name the new key's alias (pkcs11Alias)"));
            next = available.values().stream().filter(k -> k instanceof Pkcs11Signer p && p.alias().equals(alias)).findFirst()
                    .filter(k -> !k.fingerprint().equals(active.fingerprint()))
                    .orElseThrow(() -> new IllegalArgumentException("the token has no other EC key with alias " + alias));
        } else {
            if (pkcs11Alias.isPresent()) {
                throw new IllegalArgumentException("the signing key is a key file: pkcs11Alias does not apply");
            }
            try {
                Files.deleteIfExists(nextFile);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            next = readKeyFile(nextFile, true);
            available.put(next.fingerprint(), next);
        }
        pendingNext = next;
        leftover = false;
        return next;
    }

    /** Forgets a prepared next key whose hand-over failed (its file is deleted). */
    public synchronized void discardNext(AuditSigner next) {
        if (pendingNext == null || !pendingNext.fingerprint().equals(next.fingerprint())) {
            return;
        }
        if (next instanceof FileSigner f && f.file() != null && f.file().equals(nextFile)) {
            available.remove(next.fingerprint());
            try {
                Files.deleteIfExists(nextFile);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        pendingNext = null;
        leftover = false;
    }

    /** Makes {@code next} the active key once its hand-over entry is committed. */
    public synchronized void promote(AuditSigner next) {
        if (next.fingerprint().equals(active.fingerprint())) {
            return;
        }
        AuditSigner previous = active;
        if (next instanceof FileSigner f && f.file() != null && f.file().equals(nextFile)) {
            try {
                // one atomic rename: the key file always holds a whole key, the old one or the new one; the old
                // private key's file is unlinked (only its public half survives, in the chain)
                Files.move(nextFile, keyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot install the next audit signing key over " + keyFile, e);
            }
            next = new FileSigner(f.keyPair(), keyFile);
            available.remove(previous.fingerprint());
            available.put(next.fingerprint(), next);
        }
        active = next;
        pendingNext = null;
        leftover = false;
        LOG.infof("Audit signing key handed over from %s to %s (%s)", previous.fingerprint(), next.fingerprint(), next.source());
    }
}
