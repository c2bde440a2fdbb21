package io.metalgate.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An export against witnessed heads, offline: what each kind of witness copy proves and what it cannot. */
class WitnessCheckTest {

    private static final KeyPair KEY = SigningKeys.generate();
    private static final String FP = SigningKeys.fingerprint(KEY.getPublic());

    @TempDir
    Path dir;

    /** The heads a witness took of the checkpoints of an export of {@code entries} entries. */
    private static List<String> heads(List<String> export, KeyPair key) throws Exception {
        List<String> heads = new ArrayList<>();
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : export) {
            if (line.contains("\"type\":\"checkpoint\"")) {
                var n = mapper.readTree(line);
                heads.add(AuditExportFormat.witnessedHead(SigningKeys.fingerprint(key.getPublic()), n.get("seq").asLong(),
                        n.get("hash").asText(), n.get("time").asText(), SigningKeys.fingerprint(key.getPublic()),
                        n.get("signature").asText()));
            }
        }
        return heads;
    }

    private WitnessCheck.Outcome check(List<String> export, List<String> witnessLines) throws Exception {
        Path w = dir.resolve("w" + System.nanoTime() + ".jsonl");
        Files.write(w, witnessLines);
        WitnessCheck.Heads heads = WitnessCheck.read(List.of(w), List.of());
        if (heads.problem() != null) {
            return new WitnessCheck.Outcome(AuditVerifier.Status.TAMPERED, heads.problem());
        }
        var result = new AuditVerifier(AuditVerifier.Trust.keys(FP), WitnessCheck.seqs(heads.heads()))
                .verify(new StringReader(String.join("\n", export)));
        assertTrue(result.ok(), result.message());
        return WitnessCheck.check(result, heads.heads());
    }

    @Test
    void everyWitnessedHeadInTheExportPasses() throws Exception {
        List<String> export = AuditExportFixture.lines(40, 10, KEY);
        var o = check(export, heads(export, KEY));
        assertEquals(AuditVerifier.Status.OK, o.status(), o.message());
        assertTrue(o.message().contains("4 heads found"), o.message());
    }

    @Test
    void aShorterExportThanTheWitnessSawIsACutTail() throws Exception {
        List<String> full = AuditExportFixture.lines(40, 10, KEY);
        // the same log, cut at 25 and re-sealed by the genuine key, exported later than the witness saw seq 40
        List<String> cut = AuditExportFixture.lines(25, 10, KEY);
        // exported an hour later than the fixture says, so after the witness saw seq 30 and 40
        var o = check(laterExport(cut, 3600), heads(full, KEY));
        assertEquals(AuditVerifier.Status.TAMPERED, o.status(), o.message());
        assertTrue(o.message().contains("the export ends at seq 25 but the witness saw seq 30"), o.message());
        assertTrue(o.message().contains("entries were removed"), o.message());
    }

    @Test
    void aHeadNewerThanTheExportIsReportedNotFailed() throws Exception {
        List<String> older = AuditExportFixture.lines(25, 10, KEY);
        List<String> heads = new ArrayList<>(heads(older, KEY));
        // the witness later saw seq 30, an hour after this export was made
        String time = AuditHashes.formatTime(java.time.Instant.parse("2026-11-23T10:00:25Z").plusSeconds(3600));
        String hash = "ab".repeat(32);
        heads.add(AuditExportFormat.witnessedHead(FP, 30, hash, time, FP,
                SigningKeys.sign(KEY.getPrivate(), AuditHashes.checkpointSigningInput(30, hash, time))));
        var o = check(older, heads);
        assertEquals(AuditVerifier.Status.OK, o.status(), o.message());
        assertTrue(o.message().contains("2 heads found in the export, 1 newer than the export"), o.message());
    }

    @Test
    void aHeadWithAnotherHashIsARewrittenPast() throws Exception {
        List<String> witnessed = AuditExportFixture.lines(40, 10, KEY);
        // same key, same seqs, entry 17 changed and everything after re-chained and re-signed: what a key holder
        // makes, or the appliance itself re-signing a chain the database owner rewrote
        var o = check(forgeContent(witnessed), heads(witnessed, KEY));
        assertEquals(AuditVerifier.Status.TAMPERED, o.status(), o.message());
        assertTrue(o.message().contains("entry seq 20 has hash"), o.message());
        assertTrue(o.message().contains("the log was rewritten after it was witnessed"), o.message());
    }

    @Test
    void anAlteredWitnessCopyOrAHeadOfAnotherKeyFails() throws Exception {
        List<String> export = AuditExportFixture.lines(40, 10, KEY);
        List<String> heads = new ArrayList<>(heads(export, KEY));
        String h = heads.get(1);
        int at = h.indexOf("\"signature\":\"") + 13;
        heads.set(1, h.substring(0, at) + (h.charAt(at) == 'A' ? 'B' : 'A') + h.substring(at + 1));
        var o = check(export, heads);
        assertEquals(AuditVerifier.Status.TAMPERED, o.status());
        assertTrue(o.message().contains("cannot be verified with any of the export's keys"), o.message());

        KeyPair other = SigningKeys.generate();
        List<String> foreign = new ArrayList<>();
        for (String x : heads(AuditExportFixture.lines(40, 10, other), other)) {
            // claims this log but a key it never had
            foreign.add(x.replace("\"log\":\"" + SigningKeys.fingerprint(other.getPublic()), "\"log\":\"" + FP));
        }
        var o2 = check(export, foreign);
        assertEquals(AuditVerifier.Status.TAMPERED, o2.status(), o2.message());
        assertTrue(o2.message().contains("cannot be verified with any of the export's keys"), o2.message());
    }

    @Test
    void headsOfOtherLogsAloneProveNothing() throws Exception {
        KeyPair other = SigningKeys.generate();
        List<String> export = AuditExportFixture.lines(40, 10, KEY);
        var o = check(export, heads(AuditExportFixture.lines(40, 10, other), other));
        assertEquals(AuditVerifier.Status.TAMPERED, o.status(), o.message());
        assertTrue(o.message().contains("no witnessed head belongs to this log"), o.message());
    }

    @Test
    void aFileWithoutHeadsIsRefused() throws Exception {
        var o = check(AuditExportFixture.lines(10, 10, KEY), List.of("hello", "{\"type\":\"something\"}"));
        assertEquals(AuditVerifier.Status.TAMPERED, o.status());
        assertTrue(o.message().contains("holds no witnessed audit head"), o.message());
    }

    /** The export re-made with its seal's time {@code seconds} later (what an export made later looks like). */
    private static List<String> laterExport(List<String> export, long seconds) throws Exception {
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var header = mapper.readTree(export.get(0));
        var seal = mapper.readTree(export.get(export.size() - 1));
        String at = AuditHashes.formatTime(java.time.Instant.parse(seal.get("exportedAt").asText()).plusSeconds(seconds));
        List<String> out = new ArrayList<>(export);
        out.set(0, AuditExportFormat.header(SigningKeys.publicKeyFromBase64(header.get("publicKey").asText()), at));
        out.set(out.size() - 1, AuditExportFormat.seal(seal.get("entries").asLong(), seal.get("firstSeq").asLong(),
                seal.get("lastSeq").asLong(), seal.get("lastHash").asText(), seal.get("checkpoints").asLong(), KEY, at));
        return out;
    }

    /** The export with entry 17's payload changed and everything after re-chained and re-signed with the key. */
    private static List<String> forgeContent(List<String> export) throws Exception {
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> out = new ArrayList<>();
        String prev = AuditHashes.GENESIS;
        long entries = 0;
        long checkpoints = 0;
        for (String line : export) {
            var n = mapper.readTree(line);
            String type = n.get("type").asText();
            if ("entry".equals(type)) {
                long seq = n.get("seq").asLong();
                String payload = CanonicalJson.write(n.get("payload"));
                if (seq == 17) {
                    payload = "{\"note\":\"the hold was never placed\"}";
                }
                String hash = AuditHashes.entryHash(seq, n.get("time").asText(), n.get("actor").asText(), n.get("action").asText(),
                        n.get("subject").asText(), payload, prev);
                out.add(AuditExportFormat.entry(seq, n.get("time").asText(), n.get("actor").asText(), n.get("action").asText(),
                        n.get("subject").asText(), payload, prev, hash));
                prev = hash;
                entries++;
            } else if ("checkpoint".equals(type)) {
                long seq = n.get("seq").asLong();
                String time = n.get("time").asText();
                out.add(AuditExportFormat.checkpoint(seq, prev, time,
                        SigningKeys.sign(KEY.getPrivate(), AuditHashes.checkpointSigningInput(seq, prev, time))));
                checkpoints++;
            } else if ("seal".equals(type)) {
                out.add(AuditExportFormat.seal(entries, 1, entries, prev, checkpoints, KEY, n.get("exportedAt").asText()));
            } else {
                out.add(line);
            }
        }
        return out;
    }

    @Test
    void unsignedFieldsOfAHeadDecideNothing() throws Exception {
        List<String> full = AuditExportFixture.lines(40, 10, KEY);
        List<String> cut = laterExport(AuditExportFixture.lines(25, 10, KEY), 3600);
        // the red team's P1: heads the cut removed relabelled as another log's: still this log's (its key signed them)
        List<String> relabelled = heads(full, KEY).stream()
                .map(h -> h.contains("\"seq\":30,") || h.contains("\"seq\":40,") ? h.replace("\"log\":\"" + FP, "\"log\":\"" + "0".repeat(64)) : h)
                .toList();
        var o = check(cut, relabelled);
        assertEquals(AuditVerifier.Status.TAMPERED, o.status(), o.message());
        assertTrue(o.message().contains("entries were removed"), o.message());
        // P2: their time moved past the export: the signature no longer verifies, and that fails too
        List<String> retimed = heads(full, KEY).stream()
                .map(h -> h.contains("\"seq\":30,") || h.contains("\"seq\":40,") ? h.replaceAll("\"time\":\"[^\"]+\"", "\"time\":\"9999-01-01T00:00:00.000000Z\"") : h)
                .toList();
        var o2 = check(cut, retimed);
        assertEquals(AuditVerifier.Status.TAMPERED, o2.status(), o2.message());
        assertTrue(o2.message().contains("cannot be verified with any of the export's keys"), o2.message());
    }

    @Test
    void aTimeStampFarLaterThanTheHeadProvesNothingOfItsTime() throws Exception {
        List<String> export = AuditExportFixture.lines(20, 10, KEY);
        String head = heads(export, KEY).get(0);
        try (var tsa = new io.metalgate.testing.LocalTsa().start()) {
            // stamped today, for a head that claims 2026-11-23: what a rewrite with fresh tokens looks like
            var request = io.metalgate.evidence.witness.TimeStampTokens.request(head.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    new java.security.SecureRandom());
            var reply = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(tsa.url())
                    .header("Content-Type", "application/timestamp-query")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(request.der())).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            var token = io.metalgate.evidence.witness.TimeStampTokens.accept(request, reply.body());
            Path tokens = dir.resolve("tokens.jsonl");
            Files.writeString(tokens, AuditExportFormat.timeStampedHead(head, java.util.Base64.getEncoder().encodeToString(token.der()))
                    + "\n");
            WitnessCheck.Heads heads = WitnessCheck.read(List.of(tokens), List.of(tsa.certificate()));
            assertEquals(null, heads.problem());
            var result = new AuditVerifier(AuditVerifier.Trust.keys(FP), WitnessCheck.seqs(heads.heads()))
                    .verify(new StringReader(String.join("\n", export)));
            var late = WitnessCheck.check(result, heads.heads());
            assertEquals(AuditVerifier.Status.TAMPERED, late.status(), late.message());
            assertTrue(late.message().contains("a head stamped late proves nothing of its time"), late.message());
            var tolerated = WitnessCheck.check(result, heads.heads(), java.time.Duration.ofDays(3650));
            assertEquals(AuditVerifier.Status.OK, tolerated.status(), tolerated.message());
        }
    }
}
