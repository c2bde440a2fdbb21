package io.metalgate.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.evidence.witness.TimeStampTokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks an export against what witnesses saw: every witnessed head of the same log that is older than the
 * export must be in it, with the same hash. A head the export lacks means its tail was cut; a head whose
 * hash differs means its past was rewritten — caught even when the database owner did it and the signing
 * key is untouched, because the witness keeps the head out of their reach.
 *
 * <p>Witness files are read as the witnesses keep them: JSON Lines of heads (file and webhook witnesses),
 * saved e-mails (any text holding head lines), or the time-stamp authority's tokens file, whose tokens are
 * checked against the TSA certificates the auditor trusts.
 */
public final class WitnessCheck {

    /** A witnessed head; {@code source} says where it was read, {@code tsaTime} when a TSA stamped it. */
    public record Head(String log, long seq, String hash, String time, String keyFingerprint, String signature, String line,
            String source, Instant tsaTime) {
    }

    /**
     * The heads read, and why the reading failed if it did ({@code untrusted}: a TSA token without --tsa-cert);
     * {@code ignored}: text that looked like a head but is not exactly one.
     */
    public record Heads(List<Head> heads, String problem, boolean untrusted, int ignored) {

        Heads(List<Head> heads, String problem, boolean untrusted) {
            this(heads, problem, untrusted, 0);
        }
    }

    public record Outcome(AuditVerifier.Status status, String message) {
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern HEAD_LINE = Pattern.compile("\\{\"hash\":\"[0-9a-f]{64}\",\"keyFingerprint\".*?\"type\":\"audit-head\"\\}");

    private WitnessCheck() {
    }

    /** Reads every witness file; TSA tokens are verified against {@code tsaCerts} as they are read. */
    public static Heads read(List<Path> files, List<X509Certificate> tsaCerts) throws IOException {
        List<Head> heads = new ArrayList<>();
        int ignored = 0;
        for (Path file : files) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            int found = 0;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                String where = file + ":" + (i + 1);
                if (line.startsWith("{\"head\":") && line.contains("\"type\":\"audit-head-timestamp\"")) {
                    JsonNode node = MAPPER.readTree(line);
                    String head = node.path("head").asText();
                    byte[] token;
                    try {
                        token = Base64.getDecoder().decode(node.path("tsaToken").asText());
                    } catch (IllegalArgumentException e) {
                        return new Heads(heads, where + ": the TSA token is not base64", false);
                    }
                    if (tsaCerts.isEmpty()) {
                        return new Heads(heads, "TSA not trusted: pass --tsa-cert (the time-stamp authority's certificate) "
                                + "to check the tokens in " + file, true);
                    }
                    TimeStampTokens.Verified v;
                    try {
                        v = TimeStampTokens.verify(token, head.getBytes(StandardCharsets.UTF_8), tsaCerts);
                    } catch (io.metalgate.evidence.witness.TimeStampException e) {
                        return new Heads(heads, where + ": the TSA token does not prove this head: " + e.getMessage(), false);
                    }
                    Head h = parse(head, where, v.genTime());
                    if (h == null) {
                        return new Heads(heads, where + ": the time-stamped head is not a head", false);
                    }
                    heads.add(h);
                    found++;
                    continue;
                }
                // head lines, alone or inside a saved e-mail; text that only looks like a head is skipped and counted
                // (anyone can mail the auditors): a head altered in the witness's copy proves as much as one deleted
                Matcher m = HEAD_LINE.matcher(line);
                while (m.find()) {
                    Head h = parse(m.group(), where, null);
                    if (h == null) {
                        ignored++;
                        continue;
                    }
                    heads.add(h);
                    found++;
                }
            }
            if (found == 0) {
                return new Heads(heads, file + " holds no witnessed audit head", false);
            }
        }
        return new Heads(heads, null, false, ignored);
    }

    private static Head parse(String line, String where, Instant tsaTime) throws IOException {
        JsonNode n = MAPPER.readTree(line);
        if (!"audit-head".equals(n.path("type").asText()) || !n.path("seq").canConvertToLong()) {
            return null;
        }
        Head h = new Head(n.path("log").asText(), n.path("seq").longValue(), n.path("hash").asText(), n.path("time").asText(),
                n.path("keyFingerprint").asText(), n.path("signature").asText(), line, where, tsaTime);
        // only the exact bytes the appliance produced count (and a TSA stamped)
        return AuditExportFormat.witnessedHead(h.log(), h.seq(), h.hash(), h.time(), h.keyFingerprint(), h.signature())
                .equals(line) ? h : null;
    }

    /** The sequence numbers whose hashes the verifier must report to check these heads. */
    public static Set<Long> seqs(List<Head> heads) {
        Set<Long> seqs = new HashSet<>();
        heads.forEach(h -> seqs.add(h.seq()));
        return seqs;
    }

    /**
     * Compares the verified export with the heads; {@code result} must be intact. A head is this log's when
     * its signature verifies with one of the export's keys (whatever its unsigned {@code log} field says);
     * a head that claims this log and verifies with none fails, so an altered or unverifiable head is never
     * skipped. For a time-stamped head the TSA's time counts, which nobody on the appliance can set: it must
     * follow the head's own time within {@code tsaMaxDelay}, and decides whether the head is older than the
     * export.
     */
    public static Outcome check(AuditVerifier.Result result, List<Head> heads, java.time.Duration tsaMaxDelay) {
        String log = result.keyFingerprint();
        int matched = 0;
        int newer = 0;
        int otherLogs = 0;
        Head newest = null;
        AuditVerifier.KeyUse last = result.keys().get(result.keys().size() - 1);
        for (Head h : heads) {
            byte[] signed = AuditHashes.checkpointSigningInput(h.seq(), h.hash(), h.time());
            AuditVerifier.KeyUse signer = h.seq() <= result.lastSeq() ? keyAt(result.keys(), h.seq()) : last;
            boolean verifies = signer != null && SigningKeys.verify(signer.key(), signed, h.signature());
            if (!verifies) {
                boolean anyKey = result.keys().stream().anyMatch(k -> SigningKeys.verify(k.key(), signed, h.signature()));
                if (!h.log().equals(log) && !anyKey) {
                    otherLogs++;
                    continue;
                }
                return tampered(h, anyKey
                        ? "witnessed head seq " + h.seq() + " is signed by a key that is not the export's key at that place "
                                + "(its key history was rewritten)"
                        : "witnessed head seq " + h.seq() + " cannot be verified with any of the export's keys: the witness "
                                + "copy was altered, or the witness saw a key hand-over this export does not have (export again)");
            }
            if (h.tsaTime() != null) {
                java.time.Instant headTime = java.time.Instant.parse(h.time());
                if (h.tsaTime().isAfter(headTime.plus(tsaMaxDelay))) {
                    return tampered(h, "the TSA stamped head seq " + h.seq() + " at " + h.tsaTime() + ", more than " + tsaMaxDelay
                            + " after the time it claims (" + h.time() + "): a head stamped late proves nothing of its time "
                            + "(raise --tsa-max-delay only if the TSA was unreachable that long)");
                }
            }
            if (h.seq() > result.lastSeq()) {
                boolean olderThanExport = result.exportedAt() != null && (h.tsaTime() != null
                        ? !h.tsaTime().isAfter(java.time.Instant.parse(result.exportedAt()))
                        : h.time().compareTo(result.exportedAt()) <= 0);
                if (olderThanExport) {
                    return tampered(h, "the export ends at seq " + result.lastSeq() + " but the witness saw seq " + h.seq()
                            + " at " + (h.tsaTime() != null ? h.tsaTime() + " (TSA time)" : h.time()) + ", before the export was made ("
                            + result.exportedAt() + "): entries were removed");
                }
                newer++; // witnessed after the export was made: nothing to compare
                if (newest == null || h.seq() > newest.seq()) {
                    newest = h;
                }
                continue;
            }
            String hash = result.hashesAt().get(h.seq());
            if (!h.hash().equals(hash)) {
                return tampered(h, "entry seq " + h.seq() + " has hash " + hash + " in the export, but the witness saw "
                        + h.hash() + " at " + h.time() + ": the log was rewritten after it was witnessed");
            }
            matched++;
        }
        if (matched == 0 && newer == 0) {
            return new Outcome(AuditVerifier.Status.TAMPERED, "WITNESS FAILED: no witnessed head belongs to this log ("
                    + otherLogs + " heads of other logs): wrong witness file, or the log was replaced from seq 1");
        }
        return new Outcome(AuditVerifier.Status.OK, "witnessed: " + matched + " heads found in the export" + (newer > 0 ? ", "
                + newer + " newer than the export (the witness saw the log reach seq " + newest.seq() + " at " + newest.time()
                + ": this export is not the whole log as of then)" : "")
                + (otherLogs > 0 ? ", " + otherLogs + " of other logs ignored" : ""));
    }

    public static Outcome check(AuditVerifier.Result result, List<Head> heads) {
        return check(result, heads, DEFAULT_TSA_MAX_DELAY);
    }

    /** How long after a head's own time a TSA may have stamped it (witness retries back off up to 10 min). */
    public static final java.time.Duration DEFAULT_TSA_MAX_DELAY = java.time.Duration.ofHours(1);

    private static Outcome tampered(Head h, String why) {
        return new Outcome(AuditVerifier.Status.TAMPERED, "WITNESS FAILED (" + h.source() + "): " + why);
    }

    /** The key current at entry {@code seq}: the last one whose hand-over is at or before it. */
    private static AuditVerifier.KeyUse keyAt(List<AuditVerifier.KeyUse> keys, long seq) {
        AuditVerifier.KeyUse at = null;
        for (AuditVerifier.KeyUse k : keys) {
            if (k.fromSeq() <= seq) {
                at = k;
            }
        }
        return at;
    }
}
