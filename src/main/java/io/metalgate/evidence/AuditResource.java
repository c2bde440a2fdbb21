package io.metalgate.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.QueryParams;
import io.metalgate.security.Roles;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Reading, exporting and checkpointing the audit log. */
@Path("/api/audit")
@Tag(name = "audit")
public class AuditResource {

    public record AuditEntryView(long seq, String time, String actor, String action, String subject, JsonNode payload,
            String prevHash, String hash) {
    }

    public record AuditPage(List<AuditEntryView> items, long nextAfterSeq) {
    }

    /**
     * The current signing key; {@code pinnedFile} is where the appliance wrote the key pinned at install time
     * (its first key); {@code history} every key in the order they took over.
     */
    public record SigningKeyView(String algorithm, String publicKey, String fingerprint, String source, String pinnedFile,
            List<KeyHistoryView> history) {
    }

    public record KeyHistoryView(String fingerprint, String publicKey, long fromSeq, String since) {
    }

    /** Hand the signing over to a fresh key (file keys) or to another key of the PKCS#11 token. */
    public record RotationRequest(@jakarta.validation.constraints.NotBlank @jakarta.validation.constraints.Size(max = 500) String reason,
            String pkcs11Alias) {
    }

    private static final int EXPORT_PAGE = 5000;

    @Inject
    Pool pool;
    @Inject
    ObjectMapper mapper;
    @Inject
    AuditSigningKey key;
    @Inject
    AuditLog audit;
    @Inject
    AuditSequencer sequencer;
    @Inject
    SecurityIdentity identity;
    @Inject
    AuditWitnesses witnesses;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Audit entries in sequence order, filtered by subject, actor, action and time")
    @WithSession
    public Uni<AuditPage> list(@QueryParam("subject") String subject, @QueryParam("actor") String actor,
            @QueryParam("action") String action, @QueryParam("from") String fromParam, @QueryParam("to") String toParam,
            @QueryParam("afterSeq") @DefaultValue("0") @Min(0) long afterSeq,
            @QueryParam("limit") @DefaultValue("100") @Min(1) @Max(1000) int limit) {
        Instant from = QueryParams.instant(fromParam, "from");
        Instant to = QueryParams.instant(toParam, "to");
        StringBuilder query = new StringBuilder("seq > :after");
        Map<String, Object> params = new java.util.HashMap<>();
        params.put("after", afterSeq);
        if (subject != null) {
            query.append(" and subject = :subject");
            params.put("subject", subject);
        }
        if (actor != null) {
            query.append(" and actor = :actor");
            params.put("actor", actor);
        }
        if (action != null) {
            query.append(" and action = :action");
            params.put("action", action);
        }
        if (from != null) {
            query.append(" and time >= :from");
            params.put("from", from);
        }
        if (to != null) {
            query.append(" and time < :to");
            params.put("to", to);
        }
        return AuditEntry.<AuditEntry>find(query.toString(), io.quarkus.panache.common.Sort.by("seq"), params)
                .range(0, limit - 1).list()
                .map(entries -> {
                    List<AuditEntryView> items = entries.stream().map(this::view).toList();
                    return new AuditPage(items, items.isEmpty() ? afterSeq : items.get(items.size() - 1).seq());
                });
    }

    @GET
    @Path("/key")
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The audit signing key, its SHA-256 fingerprint, and every key since the first (pinned at install time)")
    public Uni<SigningKeyView> signingKey() {
        return pool.query("SELECT fingerprint, public_key, from_seq, created_at FROM audit_key ORDER BY from_seq").execute()
                .map(rows -> {
                    List<KeyHistoryView> history = new java.util.ArrayList<>();
                    rows.forEach(r -> history.add(new KeyHistoryView(r.getString("fingerprint").trim(), r.getString("public_key"),
                            r.getLong("from_seq"), AuditHashes.formatTime(r.getOffsetDateTime("created_at").toInstant()))));
                    String algorithm = "EC".equals(key.active().publicKey().getAlgorithm()) ? "ECDSA-P256-SHA256" : "Ed25519";
                    return new SigningKeyView(algorithm, key.publicKeyBase64(), key.fingerprint(), key.active().source(),
                            key.pinnedFile().toString(), history);
                });
    }

    @POST
    @Path("/key/rotations")
    @RolesAllowed(Roles.ADMIN)
    @jakarta.ws.rs.Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Hand the audit signing over to a new key: a hand-over entry signed by the old and the new key")
    public Uni<SigningKeyView> rotate(@jakarta.validation.Valid @jakarta.validation.constraints.NotNull RotationRequest request) {
        AuditSigner next;
        try {
            next = key.prepareNext(Optional.ofNullable(request.pkcs11Alias()));
        } catch (IllegalArgumentException e) {
            throw new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(400, "bad-rotation", "Cannot rotate the audit key", e.getMessage()));
        } catch (IllegalStateException e) {
            throw new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(409, "rotation-in-progress",
                    "A key hand-over is in progress", e.getMessage()));
        }
        return sequencer.rotate(next, identity.getPrincipal().getName(), request.reason())
                .onFailure().invoke(() -> key.discardNext(next))
                .chain(this::signingKey);
    }

    public record Acknowledgement(@jakarta.validation.constraints.NotBlank @jakarta.validation.constraints.Size(max = 2000) String reason) {
    }

    @Inject
    AuditIntegrity integrity;

    /**
     * After the appliance found its last signed head gone or changed (health check {@code audit-chain} DOWN,
     * checkpoints no longer signed): an admin acknowledges it with a reason; the entry records what was lost,
     * and signing resumes from the chain as it is.
     */
    @POST
    @Path("/integrity/acknowledgements")
    @RolesAllowed(Roles.ADMIN)
    @jakarta.ws.rs.Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Acknowledge a detected audit chain regression (recorded in the chain), so signing resumes")
    public Uni<Response> acknowledge(@jakarta.validation.Valid @jakarta.validation.constraints.NotNull Acknowledgement body) {
        String regression = integrity.regression();
        if (regression == null) {
            throw new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(409, "no-regression",
                    "Nothing to acknowledge", "the chain holds the last head this appliance signed"));
        }
        AuditIntegrity.Head last = integrity.lastSigned();
        Map<String, Object> payload = new TreeMap<>();
        payload.put("regression", regression);
        payload.put("lastSignedSeq", last == null ? null : last.seq());
        payload.put("lastSignedHash", last == null ? null : last.hash());
        payload.put("reason", body.reason());
        return audit.append(identity.getPrincipal().getName(), "audit.regression-acknowledged", "audit:log", payload)
                .invoke(integrity::acknowledged)
                .chain(sequencer::checkpointHead)
                .replaceWith(Response.noContent().build());
    }

    /** What each witness was sent and answered, newest checkpoints first. */
    @GET
    @Path("/witnesses")
    @RolesAllowed(Roles.LEGAL)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Witness deliveries of signed checkpoint heads, with their receipts, newest first")
    public Uni<List<AuditWitnesses.Delivery>> witnessDeliveries(
            @QueryParam("limit") @DefaultValue("100") @Min(1) @Max(1000) int limit) {
        return witnesses.recent(limit);
    }

    /** The time-stamped heads (head and RFC 3161 token), one per line: {@code audit verify --witness} reads them. */
    @GET
    @Path("/witnesses/tsa")
    @RolesAllowed(Roles.LEGAL)
    @Produces("application/x-ndjson")
    @Operation(summary = "Every time-stamped head with its RFC 3161 token, as JSON Lines for `audit verify --witness`")
    public Uni<String> timeStampedHeads() {
        return witnesses.timeStamped().map(lines -> lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
    }

    @POST
    @Path("/checkpoints")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Sign a checkpoint at the current head of the chain")
    public Uni<Response> checkpoint() {
        return sequencer.flush().chain(sequencer::checkpointHead).replaceWith(Response.noContent().build());
    }

    /**
     * The whole log as one JSON Lines file (see {@link AuditExportFormat}), streamed page by page, up to the
     * head of the chain at the time of the request. The export itself is audited (as a later entry).
     */
    @GET
    @Path("/export")
    @Blocking
    @RolesAllowed(Roles.LEGAL)
    @Produces("application/x-ndjson")
    @Operation(summary = "Export entries, signed checkpoints and the public key; check it with `audit verify FILE`")
    public Response export() throws Throwable {
        String who = identity.getPrincipal().getName();
        ExportKeys keys = exportKeys();
        Row head = keys.head();
        long headSeq = head.getLong("seq");
        String headHash = head.getString("hash");
        // taken after the head was read under its lock: a checkpoint signed before this moment is in the export
        String exportedAt = AuditHashes.formatTime(Instant.now());
        Map<Long, String> checkpoints = new TreeMap<>();
        RowSet<Row> cps = VertxContextSupport.subscribeAndAwait(() -> pool
                .preparedQuery("SELECT seq, hash, time, signature FROM audit_checkpoint WHERE seq <= $1 ORDER BY seq")
                .execute(Tuple.of(headSeq)));
        for (Row r : cps) {
            long seq = r.getLong("seq");
            String time = AuditHashes.formatTime(r.getOffsetDateTime("time").toInstant());
            // only checkpoints this log's keys signed: a row someone else inserted is left out and raises the alarm
            if (!SigningKeys.verify(keys.keyAt(seq), AuditHashes.checkpointSigningInput(seq, r.getString("hash"), time),
                    r.getString("signature"))) {
                integrity.alarm("the checkpoint row at seq " + seq + " is not signed by the key of that place in the chain");
                continue;
            }
            checkpoints.put(seq, AuditExportFormat.checkpoint(seq, r.getString("hash"), time, r.getString("signature")));
        }
        VertxContextSupport.subscribeAndAwait(() -> audit.append(who, "audit.exported", "audit:log",
                Map.of("headSeq", headSeq, "headHash", headHash, "exportedAt", exportedAt)));

        StreamingOutput body = out -> {
            BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
            w.write(AuditExportFormat.header(keys.genesis(), exportedAt));
            w.write('\n');
            long after = 0;
            long count = 0;
            while (after < headSeq) {
                long from = after;
                RowSet<Row> rows;
                try {
                    rows = VertxContextSupport.subscribeAndAwait(() -> pool.preparedQuery(
                            "SELECT seq, time, actor, action, subject, payload, prev_hash, hash FROM audit_entry "
                                    + "WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3")
                            .execute(Tuple.of(from, headSeq, EXPORT_PAGE)));
                } catch (Throwable e) {
                    throw new java.io.IOException("reading the audit log failed", e);
                }
                if (rows.rowCount() == 0) {
                    break;
                }
                for (Row r : rows) {
                    long seq = r.getLong("seq");
                    w.write(AuditExportFormat.entry(seq, AuditHashes.formatTime(r.getOffsetDateTime("time").toInstant()),
                            r.getString("actor"), r.getString("action"), r.getString("subject"), r.getString("payload"),
                            r.getString("prev_hash"), r.getString("hash")));
                    w.write('\n');
                    String cp = checkpoints.get(seq);
                    if (cp != null) {
                        w.write(cp);
                        w.write('\n');
                    }
                    after = seq;
                    count++;
                }
            }
            w.write(AuditExportFormat.seal(count, count == 0 ? 0 : 1, after, after == 0 ? AuditHashes.GENESIS : headHash,
                    checkpoints.size(), keys.sealer(), exportedAt));
            w.write('\n');
            w.flush();
        };
        return Response.ok(body, "application/x-ndjson")
                .header("Content-Disposition", "attachment; filename=\"metalgate-audit-" + headSeq + ".jsonl\"").build();
    }

    /**
     * The head to export to, the log's first key (the header's), the key current at that head (the seal's),
     * and which key signs from which seq (to leave out checkpoint rows the log's keys did not sign).
     */
    private record ExportKeys(Row head, java.security.PublicKey genesis, AuditSigner sealer,
            java.util.NavigableMap<Long, java.security.PublicKey> keysFrom) {

        java.security.PublicKey keyAt(long seq) {
            var e = keysFrom.floorEntry(seq);
            return e == null ? genesis : e.getValue();
        }
    }

    private ExportKeys exportKeys() throws Throwable {
        for (int attempt = 0; attempt < 3; attempt++) {
            // the head under a share lock: a pass that is chaining (and may have signed a checkpoint) commits first
            record Read(Row head, RowSet<Row> registry, String regression) {
            }
            Read read = VertxContextSupport.subscribeAndAwait(() -> sequencer.flush().chain(() -> pool.withTransaction(tx -> tx
                    .query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR SHARE").execute()
                    .chain(h -> integrity.check(tx).chain(regression -> tx.preparedQuery("SELECT fingerprint, public_key, "
                            + "from_seq FROM audit_key WHERE from_seq <= greatest($1, 1) ORDER BY from_seq")
                            .execute(Tuple.of(h.iterator().next().getLong("seq")))
                            .map(reg -> new Read(h.iterator().next(), reg, regression)))))));
            if (read.regression() != null) {
                throw new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(409, "audit-chain-regression",
                        "The audit chain regressed", read.regression() + ". An admin acknowledges it first "
                                + "(POST /api/audit/integrity/acknowledgements): the acknowledgement is then in the export"));
            }
            Row head = read.head();
            if (read.registry().rowCount() == 0) {
                // an empty log: the appliance's own key starts it
                return new ExportKeys(head, key.active().publicKey(), key.active(), new java.util.TreeMap<>());
            }
            java.security.PublicKey genesis = null;
            String current = null;
            java.util.NavigableMap<Long, java.security.PublicKey> keysFrom = new java.util.TreeMap<>();
            for (Row r : read.registry()) {
                java.security.PublicKey k = SigningKeys.publicKeyFromBase64(r.getString("public_key"));
                genesis = genesis == null ? k : genesis;
                keysFrom.put(r.getLong("from_seq"), k);
                current = r.getString("fingerprint").trim();
            }
            Optional<AuditSigner> sealer = key.holding(current);
            if (sealer.isPresent()) {
                return new ExportKeys(head, genesis, sealer.get(), keysFrom);
            }
            // a hand-over happened between reading the head and the key: read both again
        }
        throw new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(503, "audit-key-unavailable", "Audit key unavailable",
                "this appliance does not hold the audit signing key current at the head of the log"));
    }

    private AuditEntryView view(AuditEntry e) {
        JsonNode payload;
        try {
            payload = mapper.readTree(e.payload);
        } catch (Exception ex) {
            throw new IllegalStateException("stored payload of entry " + e.seq + " is not JSON", ex);
        }
        return new AuditEntryView(e.seq, AuditHashes.formatTime(e.time), e.actor, e.action, e.subject, payload, e.prevHash,
                e.hash);
    }
}
