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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code metalgate certificate verify FILE [--key FINGERPRINT|PEM]... [--data-dir DIR]}: checks an erase certificate
 * offline, as {@code GET /api/machines/{id}/erase-certificates/{certificateId}} gives it (or the list). The same trust as
 * the audit log's verifier ({@link AuditCli}): a key given, or the one pinned at install time — never the key the file
 * carries alone.
 *
 * <p>A certificate is signed by the audit key of its time. It verifies with that key as the anchor; or, when the file
 * carries the key history ({@code keyHistory}: every key with the hand-over that made it the signing key, signed by
 * the key before and by itself, decision 0011), with any key of that history as the anchor — an older one (the key
 * pinned at install time) vouched for its successors, a newer one accepted the history of the keys before it — as
 * long as the certificate was issued while its key was the signing key (between its hand-over in and its hand-over
 * out). Without hand-over evidence another key is not trusted (exit 3).
 *
 * <p>Nothing unsigned rides along: the fields beside the body must repeat exactly what the body says, every hand-over
 * in the file must verify, base64 must be in its one canonical form, and no field may be added or repeated; any of
 * these is an alteration. Exit 0: every certificate verifies with a trusted key; 1: one was altered; 2: usage or an
 * unreadable file; 3: signed by a key not trusted.
 */
public final class CertificateCli {

    static final String USAGE_TEXT = "usage: metalgate certificate verify FILE [--key FINGERPRINT|PEM]... [--data-dir DIR]";

    /** A repeated field or anything after the document is an alteration, not something to pick a reading of. */
    private static final ObjectMapper STRICT = new ObjectMapper().enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> FIELDS = Set.of("id", "machineId", "issuedAt", "body", "signature", "keyFingerprint", "publicKey",
            "keyHistory");
    private static final Set<String> REQUIRED = Set.of("id", "machineId", "issuedAt", "body", "signature", "keyFingerprint", "publicKey");
    private static final Set<String> LINK_FIELDS = Set.of("fingerprint", "publicKey", "fromSeq", "handOver");
    private static final Set<String> LINK_REQUIRED = Set.of("fingerprint", "publicKey", "fromSeq");
    private static final Set<String> HAND_OVER_FIELDS = Set.of("prevHash", "time", "handOverSignature", "acceptanceSignature");

    private CertificateCli() {
    }

    public static int run(String... args) {
        return run(args, System.out, System.err, System.getenv());
    }

    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
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
            file = STRICT.readTree(Files.readString(Path.of(args[2]), StandardCharsets.UTF_8));
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
        if (file.isArray() && file.isEmpty()) {
            err.println("no certificate in " + args[2]);
            return AuditCli.USAGE;
        }
        int worst = AuditCli.OK;
        for (JsonNode c : file.isArray() ? file : STRICT.createArrayNode().add(file)) {
            int r = verify(c, trusted, out);
            worst = r == AuditCli.OK ? worst : worst == AuditCli.TAMPERED ? worst : r;
        }
        return worst;
    }

    /** Why a certificate does not verify: {@link AuditCli#TAMPERED} or {@link AuditCli#UNTRUSTED}. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final int code;

        Refused(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** A key of the file's key history: signing from {@code fromSeq}, since {@code since} (null: the first key). */
    private record Link(String fingerprint, PublicKey key, long fromSeq, Instant since) {
    }

    /** One certificate: unaltered (its signature, the fields beside it, its key history), then signed by a trusted key. */
    static int verify(JsonNode c, Set<String> trusted, PrintStream out) {
        String id = c.isObject() ? c.path("id").asText("?") : "?";
        try {
            out.println("certificate " + id + ": OK — " + check(c, trusted));
            return AuditCli.OK;
        } catch (Refused r) {
            out.println("certificate " + id + ": " + (r.code == AuditCli.TAMPERED ? "TAMPERED — " : "UNTRUSTED — ") + r.getMessage());
            return r.code;
        }
    }

    private static String check(JsonNode c, Set<String> trusted) throws Refused {
        if (!c.isObject()) {
            throw tampered("not a certificate (body, signature and publicKey are needed)");
        }
        fields(c, FIELDS, REQUIRED, "the certificate");
        JsonNode body = c.get("body");
        if (!body.isObject()) {
            throw tampered("its body is not an object");
        }
        // what is beside the body repeats what the body says, exactly
        same(c.get("id"), body.get("id"), "id");
        same(c.get("machineId"), body.path("machine").get("id"), "machine id");
        same(c.get("issuedAt"), body.get("issuedAt"), "issuedAt");
        Instant issued = instant(body.get("issuedAt"), "the body's issuedAt");
        PublicKey key = publicKey(c.get("publicKey"), "its public key");
        String fp = SigningKeys.fingerprint(key);
        if (!fp.equals(c.path("keyFingerprint").asText()) || !fp.equals(body.path("signingKey").asText())) {
            throw tampered("its body names key " + body.path("signingKey").asText() + " and keyFingerprint " + c.path("keyFingerprint").asText()
                    + ", but its public key is " + fp);
        }
        byte[] signed = CanonicalJson.write(body).getBytes(StandardCharsets.UTF_8);
        if (!SigningKeys.verify(key, signed, base64(c.get("signature"), "its signature"))) {
            throw tampered("the signature does not verify over its body");
        }
        List<Link> history = history(c.get("keyHistory"));
        String what = "machine " + body.path("machine").path("id").asText() + ", " + body.path("disks").size() + " disk(s), issued "
                + body.path("issuedAt").asText() + ", key " + fp;
        if (trusted.contains(fp)) {
            return what;
        }
        int k = -1;
        for (int i = 0; i < history.size(); i++) {
            k = history.get(i).fingerprint().equals(fp) ? i : k;
        }
        int anchor = -1;
        for (int i = 0; i < history.size() && k >= 0; i++) {
            if (trusted.contains(history.get(i).fingerprint()) && (anchor < 0 || Math.abs(i - k) < Math.abs(anchor - k))) {
                anchor = i;
            }
        }
        if (anchor < 0) {
            throw untrusted("signed by key " + fp + ", which was not given as trusted" + (history.isEmpty()
                    ? " (the file carries no key hand-overs to follow)"
                    : k < 0 ? " and is not in the file's key history" : ", nor is any key of the file's key history"));
        }
        Link own = history.get(k);
        Link next = k + 1 < history.size() ? history.get(k + 1) : null;
        if (own.since() != null && issued.isBefore(own.since())) {
            throw untrusted("issued " + issued + ", before key " + fp + " became the signing key (hand-over at seq " + own.fromSeq()
                    + ", " + own.since() + ")");
        }
        if (next != null && !issued.isBefore(next.since())) {
            throw untrusted("issued " + issued + " by key " + fp + ", which had handed the signing over to " + next.fingerprint()
                    + " at seq " + next.fromSeq() + " (" + next.since() + "): through the hand-overs a retired key is trusted only for "
                    + "what it signed before; give " + fp + " itself as --key to accept it");
        }
        return what + ", trusted through the key hand-over(s) " + (anchor < k ? "from" : "to") + " the trusted key "
                + history.get(anchor).fingerprint();
    }

    /**
     * The file's key history, every hand-over checked: each key after the first is signed in by the key before it and
     * signs its acceptance itself ({@link AuditHashes#handOverSigningInput}); anything else is an alteration.
     */
    private static List<Link> history(JsonNode h) throws Refused {
        List<Link> out = new ArrayList<>();
        if (h == null || h.isNull()) {
            return out;
        }
        if (!h.isArray()) {
            throw tampered("keyHistory is not a list");
        }
        for (JsonNode l : h) {
            if (!l.isObject()) {
                throw tampered("keyHistory holds something that is not a key");
            }
            fields(l, LINK_FIELDS, LINK_REQUIRED, "a key of keyHistory");
            PublicKey k = publicKey(l.get("publicKey"), "a public key of keyHistory");
            String fp = SigningKeys.fingerprint(k);
            if (!fp.equals(l.path("fingerprint").asText())) {
                throw tampered("keyHistory: " + l.path("fingerprint").asText() + " is not the fingerprint of its public key " + fp);
            }
            if (!l.get("fromSeq").isIntegralNumber()) {
                throw tampered("keyHistory: key " + fp + " has no fromSeq");
            }
            long from = l.get("fromSeq").asLong();
            JsonNode ho = l.get("handOver");
            if (out.isEmpty()) {
                if (from != 1) {
                    throw tampered("keyHistory: the first key " + fp + " signs from seq " + from + ", not from the first entry");
                }
                if (ho != null && !ho.isNull()) {
                    throw tampered("keyHistory: the first key " + fp + " has a hand-over from no key");
                }
                out.add(new Link(fp, k, from, null));
                continue;
            }
            Link prev = out.get(out.size() - 1);
            if (from <= prev.fromSeq()) {
                throw tampered("keyHistory: key " + fp + " from seq " + from + " follows a key from seq " + prev.fromSeq());
            }
            if (ho == null || !ho.isObject()) {
                throw tampered("keyHistory: key " + fp + " has no hand-over from " + prev.fingerprint());
            }
            fields(ho, HAND_OVER_FIELDS, HAND_OVER_FIELDS, "the hand-over to " + fp);
            String time = ho.path("time").asText();
            Instant since = instant(ho.get("time"), "the time of the hand-over to " + fp);
            byte[] signed = AuditHashes.handOverSigningInput(from, ho.path("prevHash").asText(), time, prev.fingerprint(), fp,
                    l.path("publicKey").asText());
            if (!SigningKeys.verify(prev.key(), signed, base64(ho.get("handOverSignature"), "a hand-over signature"))) {
                throw tampered("keyHistory: the hand-over at seq " + from + " is not signed by the key it hands over from, " + prev.fingerprint());
            }
            if (!SigningKeys.verify(k, signed, base64(ho.get("acceptanceSignature"), "a hand-over signature"))) {
                throw tampered("keyHistory: the hand-over at seq " + from + " is not signed by the key it hands over to, " + fp);
            }
            out.add(new Link(fp, k, from, since));
        }
        return out;
    }

    private static void fields(JsonNode node, Set<String> allowed, Set<String> required, String what) throws Refused {
        Set<String> present = new TreeSet<>();
        node.fieldNames().forEachRemaining(present::add);
        for (String f : present) {
            if (!allowed.contains(f)) {
                throw tampered(what + " has a field " + f + " that is not part of it");
            }
        }
        for (String f : required) {
            if (node.get(f) == null || node.get(f).isNull()) {
                throw tampered(what + " has no " + f);
            }
        }
    }

    private static void same(JsonNode beside, JsonNode signed, String what) throws Refused {
        if (beside == null || signed == null || !beside.isTextual() || !beside.equals(signed)) {
            throw tampered("its " + what + " " + beside + " is not the body's " + signed);
        }
    }

    private static Instant instant(JsonNode n, String what) throws Refused {
        try {
            return Instant.parse(n.textValue());
        } catch (RuntimeException e) {
            throw tampered(what + " is not a time: " + n);
        }
    }

    /** Base64 in its one canonical form (the bits the last character leaves over are zero): no second spelling passes. */
    private static String base64(JsonNode n, String what) throws Refused {
        String s = n == null ? null : n.textValue();
        try {
            if (s != null && Base64.getEncoder().encodeToString(Base64.getDecoder().decode(s)).equals(s)) {
                return s;
            }
        } catch (IllegalArgumentException e) {
            // not base64 at all
        }
        throw tampered(what + " is not base64 in its canonical form");
    }

    private static PublicKey publicKey(JsonNode n, String what) throws Refused {
        String b64 = base64(n, what);
        try {
            PublicKey key = SigningKeys.publicKeyFromBase64(b64);
            if (!java.util.Arrays.equals(key.getEncoded(), Base64.getDecoder().decode(b64))) {
                throw tampered(what + " is not in its one DER encoding");
            }
            return key;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw tampered(what + " is unreadable");
        }
    }

    private static Refused tampered(String why) {
        return new Refused(AuditCli.TAMPERED, why);
    }

    private static Refused untrusted(String why) {
        return new Refused(AuditCli.UNTRUSTED, why);
    }
}
