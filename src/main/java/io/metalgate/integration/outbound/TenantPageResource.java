package io.metalgate.integration.outbound;

import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.Hold;
import io.metalgate.lease.HoldService;
import io.metalgate.lease.NoticeService;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The tenant's page ({@code /notice/<token>}, no login): the notice a signed, expiring link names ({@link NoticeLinks}),
 * and three choices: acknowledge it, ask for preservation (a PRESERVATION_REQUEST hold is placed at once, fail safe, for
 * a person to review), or ask for an export. Each choice is a LINK attempt with outcome ACKNOWLEDGED (the tenant opened
 * the notice: the strongest proof) and is audited. The token is the only credential: it rides in the form (no cookie,
 * no session, so a cross-site form cannot act without it), output is escaped by Qute, and one link records at most
 * {@code metalgate.notices.link-uses} choices (429 after that).
 */
@Path("/notice")
@Tag(name = "tenant page")
public class TenantPageResource {

    static final String ACTOR = "tenant-link";

    /** What the page shows; {@code valid} false: only {@code message}. */
    public record Page(boolean valid, String message, String kind, String tenant, String noticeId, String lease, String deadline,
            String createdAt, String expires, String token, String action) {
        static Page invalid(String message) {
            return new Page(false, message, null, null, null, null, null, null, null, null, null);
        }
    }

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance page(Page page);
    }

    public enum Choice {
        ACKNOWLEDGE, PRESERVE, EXPORT
    }

    @Inject
    NoticeLinks links;
    @Inject
    NoticeService notices;
    @Inject
    HoldService holds;
    @Inject
    AuditLog audit;
    @Inject
    Pool pool;
    @Inject
    NoticesConfig config;

    @Context
    HttpServerRequest request;

    private static final String INVALID = "This link is not valid or has expired. Please contact your hosting provider.";

    @GET
    @Path("/{token}")
    @Produces(MediaType.TEXT_HTML)
    @PermitAll
    @Operation(summary = "The tenant's page for one notice (signed, expiring link; no login)")
    public Uni<Response> page(@PathParam("token") String token) {
        return show(token, null, 200);
    }

    @POST
    @Path("/{token}")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_HTML)
    @PermitAll
    @Operation(summary = "The tenant's choice: ACKNOWLEDGE, PRESERVE (a preservation hold at once) or EXPORT; recorded and audited")
    public Uni<Response> choose(@PathParam("token") String token, @FormParam("token") String formToken, @FormParam("choice") String choice) {
        Optional<NoticeLinks.Link> link = links.verify(token, Instant.now());
        if (link.isEmpty() || formToken == null || !formToken.equals(token)) {
            return html(Page.invalid(INVALID), 404);
        }
        Choice c;
        try {
            c = Choice.valueOf(String.valueOf(choice));
        } catch (IllegalArgumentException e) {
            return html(Page.invalid("Unknown choice."), 400);
        }
        UUID noticeId = link.get().noticeId();
        String remote = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
        String agent = request.getHeader("User-Agent");
        // one link, a bounded number of choices: counted and recorded under a per-notice lock
        return pool.withTransaction(tx -> tx.preparedQuery("SELECT pg_advisory_xact_lock(hashtext($1))").execute(Tuple.of("notice-link:" + noticeId))
                .chain(() -> tx.preparedQuery("SELECT count(*) FROM notice_link_use WHERE notice_id = $1").execute(Tuple.of(noticeId)))
                .chain(rows -> {
                    if (rows.iterator().next().getLong(0) >= config.linkUses()) {
                        return Uni.createFrom().item(false);
                    }
                    return tx.preparedQuery("INSERT INTO notice_link_use (id, notice_id, choice, remote, at) VALUES ($1, $2, $3, $4, $5)")
                            .execute(Tuple.of(UUID.randomUUID(), noticeId, c.name(), remote, Instant.now().atOffset(ZoneOffset.UTC)))
                            .replaceWith(true);
                })).chain(allowed -> {
                    if (!allowed && c == Choice.PRESERVE) {
                        // a request to preserve is never turned away (fail safe): past the link's uses it records no attempt,
                        // but places the hold unless one the tenant asked for through a link already stands
                        return notices.get(noticeId).chain(n -> preserveBeyondUses(n)).chain(message -> show(token, message, 200));
                    }
                    if (!allowed) {
                        return html(Page.invalid("This link has been used as often as it may be. Please contact your hosting provider."), 429);
                    }
                    return notices.get(noticeId).chain(n -> act(n, c, token, remote, agent))
                            .chain(message -> show(token, message, 200));
                });
    }

    private static final String PRESERVE_RECORDED = "Your request to preserve your data is recorded; nothing of yours will be erased "
            + "while it stands. We will contact you.";

    private Uni<String> preserveBeyondUses(NoticeService.NoticeView n) {
        return pool.preparedQuery("SELECT 1 FROM hold WHERE tenant_id = $1 AND kind = 'PRESERVATION_REQUEST' AND placed_by = $2 "
                + "AND released_at IS NULL AND release_requested_by IS NULL AND (lease_id IS NOT DISTINCT FROM $3::uuid OR lease_id IS NULL)")
                .execute(Tuple.of(n.tenantId(), ACTOR, n.leaseId())).chain(rows -> rows.rowCount() > 0 ? Uni.createFrom().item(PRESERVE_RECORDED)
                        : holds.place(new HoldService.HoldRequest(Hold.Kind.PRESERVATION_REQUEST, n.tenantId(), n.leaseId(), List.of(),
                                "The tenant asked for preservation through the link of notice " + n.id() + " (past the link's uses; to be "
                                        + "reviewed by a person)"), ACTOR).call(audit::sequenced).replaceWith(PRESERVE_RECORDED));
    }

    private Uni<String> act(NoticeService.NoticeView n, Choice c, String token, String remote, String agent) {
        Map<String, Object> proof = new LinkedHashMap<>();
        proof.put("choice", c.name());
        proof.put("link", HttpSender.sha256(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        proof.put("remote", remote);
        proof.put("userAgent", agent == null ? null : agent.length() > 200 ? agent.substring(0, 200) : agent);
        String proofJson = audit.canonical(proof);
        Uni<Void> recorded = notices.recordAttempt(n.id(), NoticeService.Channel.LINK, NoticeService.Outcome.ACKNOWLEDGED, proofJson,
                null, ACTOR, false).replaceWithVoid();
        Map<String, Object> payload = new LinkedHashMap<>(proof);
        payload.put("noticeId", n.id().toString());
        return switch (c) {
            case ACKNOWLEDGE -> recorded.replaceWith("Thank you: your acknowledgement of this notice is recorded.");
            case PRESERVE -> recorded.chain(() -> holds.place(new HoldService.HoldRequest(Hold.Kind.PRESERVATION_REQUEST, n.tenantId(),
                    n.leaseId(), List.of(), "The tenant asked for preservation through the link of notice " + n.id()
                            + " (to be reviewed by a person)"), ACTOR))
                    .call(audit::sequenced)
                    .replaceWith(PRESERVE_RECORDED);
            case EXPORT -> recorded.chain(() -> audit.append(ACTOR, "tenant.export-requested", "tenant:" + n.tenantId(), payload))
                    .replaceWith("Your request for an export of your data is recorded. We will contact you.");
        };
    }

    private Uni<Response> show(String token, String message, int status) {
        Optional<NoticeLinks.Link> link = links.verify(token, Instant.now());
        if (link.isEmpty()) {
            return html(Page.invalid(INVALID), 404);
        }
        UUID id = link.get().noticeId();
        return pool.preparedQuery("SELECT n.kind, n.deadline, n.created_at, t.name, l.external_ref FROM notice n JOIN tenant t ON t.id = n.tenant_id "
                + "LEFT JOIN lease l ON l.id = n.lease_id WHERE n.id = $1").execute(Tuple.of(id)).chain(rows -> {
                    if (rows.rowCount() == 0) {
                        return html(Page.invalid(INVALID), 404);
                    }
                    var r = rows.iterator().next();
                    var deadline = r.getOffsetDateTime("deadline");
                    return html(new Page(true, message, r.getString("kind").toLowerCase(java.util.Locale.ROOT), r.getString("name"), id.toString(),
                            r.getString("external_ref"), deadline == null ? null : deadline.toInstant().toString(),
                            r.getOffsetDateTime("created_at").toInstant().toString(), link.get().expires().toString(), token,
                            "/notice/" + token), status);
                });
    }

    private static Uni<Response> html(Page page, int status) {
        return Templates.page(page).createUni().map(s -> Response.status(status).type(MediaType.TEXT_HTML_TYPE)
                .header("Cache-Control", "no-store").header("X-Frame-Options", "DENY")
                .header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'").entity(s).build());
    }
}
