package io.metalgate.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code metalgate certificate verify FILE [--key FINGERPRINT|PEM]... [--data-dir DIR]}: checks an erase certificate
 * offline, as {@code GET /api/machines/{id}/erase-certificates} gives it (one, or the list). The same trust as the
 * audit log's verifier ({@link AuditCli}): a key given, or the one pinned at install time — never the key the file
 * carries alone. Exit 0: every certificate verifies with a trusted key; 1: one was altered (its signature does not
 * verify over its body); 2: usage; 3: signed by a key not trusted.
 */
public final class CertificateCli {

    static final String USAGE_TEXT = "usage: metalgate certificate verify FILE [--key FINGERPRINT|PEM]... [--data-dir DIR]";

    private CertificateCli() {
    }

    public static int run(String... args) {
        return run(args, System.out, System.err, System.getenv());
    }

    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length < 3 || !"certificate".equals(args[0]) || !"verify".equals(args[1])) {
            err.println(USAGE_TEXT);
            return AuditCli.USAGE;
        }
        Set<String> trusted = new LinkedHashSet<>();
        Optional<Path> dataDir = Optional.empty();
        JsonNode file;
        try {
            for (int i = 3; i < args.length; i++) {
                switch (args[i]) {
                    case "--key" -> {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException("--key needs a fingerprint or a PEM file");
                        }
                        trusted.add(AuditCli.keyFingerprint(args[++i]));
                    }
                    case "--data-dir" -> {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException("--data-dir needs a directory");
                        }
                        dataDir = Optional.of(Path.of(args[++i]));
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (trusted.isEmpty()) {
                Optional<Path> dir = dataDir.or(() -> Optional.ofNullable(env.get("METALGATE_DATA_DIR")).map(Path::of));
                Path pinned = dir.map(d -> d.resolve(AuditSigningKey.PINNED_FILE)).orElse(null);
                if (pinned != null && Files.isRegularFile(pinned)) {
                    trusted.add(AuditCli.keyFingerprint(pinned.toString()));
                }
            }
            file = new ObjectMapper().readTree(Files.readString(Path.of(args[2]), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            err.println("no such file: " + e.getFile());
            return AuditCli.USAGE;
        } catch (IOException | IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println(USAGE_TEXT);
            return AuditCli.USAGE;
        }
        if (trusted.isEmpty()) {
            err.println("key not trusted: pass --key FINGERPRINT (shown by GET /api/audit/key) or --data-dir of the appliance");
            return AuditCli.UNTRUSTED;
        }
        int worst = AuditCli.OK;
        for (JsonNode c : file.isArray() ? file : new ObjectMapper().createArrayNode().add(file)) {
            int r = verify(c, trusted, out);
            worst = r == AuditCli.OK ? worst : worst == AuditCli.TAMPERED ? worst : r;
        }
        return worst;
    }

    /** One certificate: its key trusted, named in its body, and its signature over the canonical body. */
    static int verify(JsonNode c, Set<String> trusted, PrintStream out) {
        String id = c.path("id").asText("?");
        JsonNode body = c.get("body");
        if (body == null || !c.hasNonNull("signature") || !c.hasNonNull("publicKey")) {
            out.println("certificate " + id + ": TAMPERED — not a certificate (body, signature and publicKey are needed)");
            return AuditCli.TAMPERED;
        }
        PublicKey key;
        try {
            key = SigningKeys.publicKeyFromBase64(c.get("publicKey").asText());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            out.println("certificate " + id + ": TAMPERED — its public key is unreadable");
            return AuditCli.TAMPERED;
        }
        String fp = SigningKeys.fingerprint(key);
        if (!trusted.contains(fp)) {
            out.println("certificate " + id + ": UNTRUSTED — signed by key " + fp + ", which was not given as trusted");
            return AuditCli.UNTRUSTED;
        }
        if (!fp.equals(body.path("signingKey").asText())) {
            out.println("certificate " + id + ": TAMPERED — its body names key " + body.path("signingKey").asText() + ", not " + fp);
            return AuditCli.TAMPERED;
        }
        byte[] signed = CanonicalJson.write(body).getBytes(StandardCharsets.UTF_8);
        if (!SigningKeys.verify(key, signed, c.get("signature").asText())) {
            out.println("certificate " + id + ": TAMPERED — the signature does not verify over its body");
            return AuditCli.TAMPERED;
        }
        out.println("certificate " + id + ": OK — machine " + body.path("machine").path("id").asText() + ", " + body.path("disks").size()
                + " disk(s), issued " + body.path("issuedAt").asText() + ", key " + fp);
        return AuditCli.OK;
    }
}
