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

    public record SigningKeyView(String algorithm, String publicKey, String fingerprint) {
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
    @Operation(summary = "The appliance's Ed25519 audit signing key and its SHA-256 fingerprint")
    public SigningKeyView signingKey() {
        return new SigningKeyView("Ed25519", key.publicKeyBase64(), key.fingerprint());
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
        Row head = VertxContextSupport.subscribeAndAwait(() -> sequencer.flush()
                .chain(() -> pool.query("SELECT seq, hash FROM audit_head WHERE id = 1").execute())
                .map(rows -> rows.iterator().next()));
        long headSeq = head.getLong("seq");
        String headHash = head.getString("hash");
        String exportedAt = AuditHashes.formatTime(Instant.now());
        Map<Long, String> checkpoints = new TreeMap<>();
        RowSet<Row> cps = VertxContextSupport.subscribeAndAwait(() -> pool
                .preparedQuery("SELECT seq, hash, time, signature FROM audit_checkpoint WHERE seq <= $1 ORDER BY seq")
                .execute(Tuple.of(headSeq)));
        cps.forEach(r -> checkpoints.put(r.getLong("seq"), AuditExportFormat.checkpoint(r.getLong("seq"),
                r.getString("hash"), AuditHashes.formatTime(r.getOffsetDateTime("time").toInstant()), r.getString("signature"))));
        VertxContextSupport.subscribeAndAwait(() -> audit.append(who, "audit.exported", "audit:log",
                Map.of("headSeq", headSeq, "headHash", headHash, "exportedAt", exportedAt)));

        StreamingOutput body = out -> {
            BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
            w.write(AuditExportFormat.header(key.keyPair().getPublic(), exportedAt));
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
                    key.keyPair(), exportedAt));
            w.write('\n');
            w.flush();
        };
        return Response.ok(body, "application/x-ndjson")
                .header("Content-Disposition", "attachment; filename=\"metalgate-audit-" + headSeq + ".jsonl\"").build();
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
