package io.metalgate.evidence;

import io.metalgate.evidence.witness.TimeStampTokens;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code metalgate audit verify FILE [--key KEY]... [--data-dir DIR] [--trust-file-key] [--witness HEADS]...
 * [--tsa-cert PEM]...}.
 *
 * <p>Trusts nothing by default: the export must be signed (through any key hand-overs) by a key the
 * auditor got elsewhere — {@code --key} (a SHA-256 fingerprint, as {@code GET /api/audit/key} and the
 * first start's log show it, or a PEM public key file), or the key pinned at install time in
 * {@code <data-dir>/audit-public-key.pem} ({@code --data-dir}, or {@code METALGATE_DATA_DIR}; never a
 * directory next to the file, which whoever handed over the file could have put there).
 * {@code --trust-file-key} trusts the key the file carries, and says so loudly.
 *
 * <p>Exit codes: 0 intact, signed by a trusted key (and consistent with every witness given); 1 tampered
 * (the message names the first bad entry or the witnessed head the export contradicts); 2 wrong usage or an
 * unreadable file; 3 not trusted (no trust anchor, none of the export's keys is trusted, or a TSA token
 * without {@code --tsa-cert}).
 */
public final class AuditCli {

    public static final int OK = 0;
    public static final int TAMPERED = 1;
    public static final int USAGE = 2;
    public static final int UNTRUSTED = 3;

    private static final Pattern FINGERPRINT = Pattern.compile("[0-9a-fA-F]{64}");
    private static final String USAGE_TEXT = "usage: metalgate audit verify FILE [--key FINGERPRINT|PEM-FILE]... "
            + "[--data-dir DIR] [--trust-file-key] [--witness HEADS-FILE]... [--tsa-cert PEM-FILE]... [--tsa-max-delay SECONDS]";

    private AuditCli() {
    }

    public static int run(String... args) {
        return run(args, System.out, System.err, System.getenv());
    }

    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length < 3 || !"audit".equals(args[0]) || !"verify".equals(args[1])) {
            err.println(USAGE_TEXT);
            return USAGE;
        }
        Set<String> trusted = new LinkedHashSet<>();
        List<String> anchors = new ArrayList<>();
        Optional<Path> dataDir = Optional.empty();
        boolean trustFileKey = false;
        List<Path> witnesses = new ArrayList<>();
        List<X509Certificate> tsaCerts = new ArrayList<>();
        java.time.Duration tsaMaxDelay = WitnessCheck.DEFAULT_TSA_MAX_DELAY;
        try {
            for (int i = 3; i < args.length; i++) {
                String opt = args[i];
                boolean hasValue = i + 1 < args.length;
                switch (opt) {
                    case "--key" -> {
                        if (!hasValue) {
                            throw new IllegalArgumentException("--key needs a fingerprint or a PEM file");
                        }
                        String k = args[++i];
                        String fp = keyFingerprint(k);
                        trusted.add(fp);
                        anchors.add("--key " + k + (k.equalsIgnoreCase(fp) ? "" : " (SHA-256 " + fp + ")"));
                    }
                    case "--data-dir" -> {
                        if (!hasValue) {
                            throw new IllegalArgumentException("--data-dir needs a directory");
                        }
                        dataDir = Optional.of(Path.of(args[++i]));
                    }
                    case "--trust-file-key" -> trustFileKey = true;
                    case "--witness" -> {
                        if (!hasValue) {
                            throw new IllegalArgumentException("--witness needs a file");
                        }
                        witnesses.add(Path.of(args[++i]));
                    }
                    case "--tsa-cert" -> {
                        if (!hasValue) {
                            throw new IllegalArgumentException("--tsa-cert needs a PEM file");
                        }
                        tsaCerts.addAll(TimeStampTokens.readPemCertificates(Path.of(args[++i])));
                    }
                    case "--tsa-max-delay" -> {
                        if (!hasValue || !args[i + 1].matches("[0-9]{1,9}")) {
                            throw new IllegalArgumentException("--tsa-max-delay needs a number of seconds");
                        }
                        tsaMaxDelay = java.time.Duration.ofSeconds(Long.parseLong(args[++i]));
                    }
                    default -> throw new IllegalArgumentException("unknown option " + opt);
                }
            }
            if (trusted.isEmpty() && !trustFileKey) {
                // the key pinned at install time, when this machine has it
                Optional<Path> dir = dataDir.or(() -> Optional.ofNullable(env.get("METALGATE_DATA_DIR")).map(Path::of));
                Path pinned = dir.map(d -> d.resolve(AuditSigningKey.PINNED_FILE)).orElse(null);
                if (pinned != null && Files.isRegularFile(pinned)) {
                    String fp = keyFingerprint(pinned.toString());
                    trusted.add(fp);
                    anchors.add("the key pinned at install time in " + pinned.toAbsolutePath() + " (SHA-256 " + fp + ")");
                } else if (dataDir.isPresent()) {
                    throw new IllegalArgumentException("no pinned key in " + pinned);
                }
            }
        } catch (NoSuchFileException e) {
            err.println("no such file: " + e.getFile());
            return USAGE;
        } catch (IOException | IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println(USAGE_TEXT);
            return USAGE;
        }
        if (trustFileKey) {
            err.println("WARNING: --trust-file-key: trusting the key carried in the export itself. Anyone can write a "
                    + "consistent export with a key of their own; this checks consistency only, not who wrote it.");
        }
        Path file = Path.of(args[2]);
        WitnessCheck.Heads heads;
        try {
            heads = WitnessCheck.read(witnesses, tsaCerts);
        } catch (NoSuchFileException e) {
            err.println("no such file: " + e.getFile());
            return USAGE;
        } catch (IOException e) {
            err.println("cannot read the witness file: " + e.getMessage());
            return USAGE;
        }
        if (heads.problem() != null) {
            err.println(heads.problem());
            return heads.untrusted() ? UNTRUSTED : TAMPERED;
        }
        AuditVerifier.Trust trust = new AuditVerifier.Trust(trusted, trustFileKey);
        // Malformed UTF-8 decodes to U+FFFD, which then fails the entry's hash: the message names the entry.
        try (Reader reader = new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8)) {
            AuditVerifier.Result result = new AuditVerifier(trust, WitnessCheck.seqs(heads.heads())).verify(reader);
            if (result.status() == AuditVerifier.Status.TAMPERED) {
                err.println(result.message());
                return TAMPERED;
            }
            if (!witnesses.isEmpty()) {
                WitnessCheck.Outcome witnessed = WitnessCheck.check(result, heads.heads(), tsaMaxDelay);
                if (heads.ignored() > 0) {
                    err.println("note: " + heads.ignored() + " line(s) in the witness files looked like heads but are not "
                            + "exactly what the appliance writes; ignored");
                }
                if (witnessed.status() != AuditVerifier.Status.OK) {
                    err.println(witnessed.message());
                    return TAMPERED;
                }
                if (result.ok()) {
                    out.println(result.message());
                    out.println(witnessed.message());
                    anchors.forEach(a -> out.println("trust anchor: " + a));
                    return OK;
                }
            }
            if (result.status() == AuditVerifier.Status.UNTRUSTED) {
                err.println(result.message());
                return UNTRUSTED;
            }
            out.println(result.message());
            anchors.forEach(a -> out.println("trust anchor: " + a));
            return OK;
        } catch (NoSuchFileException e) {
            err.println("no such file: " + file);
            return USAGE;
        } catch (IOException e) {
            err.println("cannot read " + file + ": " + e.getMessage());
            return USAGE;
        }
    }

    /** A key given as its fingerprint, a PEM / base64 file, or inline PEM / base64. */
    static String keyFingerprint(String key) throws IOException {
        if (FINGERPRINT.matcher(key).matches()) {
            return key.toLowerCase(java.util.Locale.ROOT);
        }
        Path p = Path.of(key);
        String text = Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.UTF_8) : key;
        if (FINGERPRINT.matcher(text.strip()).matches()) {
            return text.strip().toLowerCase(java.util.Locale.ROOT);
        }
        try {
            return SigningKeys.fingerprint(SigningKeys.fromPem(text));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("--key " + key + " is neither a SHA-256 fingerprint (64 hex digits) nor a "
                    + (Files.isRegularFile(p) ? "PEM public key file" : "file"));
        }
    }
}
