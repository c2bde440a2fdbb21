package io.metalgate.integration;

import io.metalgate.common.Problem;
import io.metalgate.security.Roles;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The messages the mailbox watcher read: what it made of each, and those a person must review. */
@Path("/api/integrations/mailbox/messages")
@Tag(name = "integrations")
@Produces({ MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE })
public class MailboxResource {

    /** One message as read (never its body: the stored copy is for evidence). */
    public record View(UUID id, String mailbox, long uid, String messageId, String from, String subject, Instant receivedAt,
            String rawSha256, String classification, String matched, String status, boolean review, String reviewReason,
            String tenantIds, UUID noticeId, UUID attemptId, String holdIds) {
    }

    @Inject
    Pool pool;

    @GET
    @RolesAllowed({ Roles.OPERATOR, Roles.LEGAL })
    @Operation(summary = "Messages read from the inbound mailbox, newest first; review=true: those a person must review")
    @APIResponse(responseCode = "200", description = "the messages (at most 500)")
    public Uni<List<View>> list(@QueryParam("review") Boolean review) {
        return pool.preparedQuery("SELECT * FROM inbound_mail WHERE ($1::boolean IS NULL OR review = $1) ORDER BY received_at DESC, id LIMIT 500")
                .execute(Tuple.of(review)).map(rows -> {
                    List<View> out = new ArrayList<>();
                    for (Row r : rows) {
                        out.add(new View(r.getUUID("id"), r.getString("mailbox"), r.getLong("uid"), r.getString("message_id"),
                                r.getString("from_address"), r.getString("subject"), r.getOffsetDateTime("received_at").toInstant(),
                                r.getString("raw_sha256"), r.getString("classification"), r.getString("matched"), r.getString("status"),
                                r.getBoolean("review"), r.getString("review_reason"), r.getString("tenant_ids"), r.getUUID("notice_id"),
                                r.getUUID("attempt_id"), r.getString("hold_ids")));
                    }
                    return out;
                });
    }
}
