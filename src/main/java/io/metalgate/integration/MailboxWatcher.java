package io.metalgate.integration;

import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.metalgate.integration.outbound.BounceReader;
import io.metalgate.integration.outbound.ImapMailbox;
import io.metalgate.lease.Hold;
import io.metalgate.lease.HoldService;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.mail.Address;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Watches the inbound IMAP mailbox ({@code metalgate.integrations.imap.*}) for preservation requests and replies to
 * notices. New messages are read by UID after the one remembered in PostgreSQL ({@code mailbox_cursor}, per folder
 * and UIDVALIDITY); each is stored ({@code inbound_mail}, idempotent by its Message-ID) in the transaction that moves
 * the cursor, before anything acts on it, then acted on once (its row claimed):
 * <ul>
 * <li>a reply naming one of our notice e-mails' Message-IDs (In-Reply-To / References) is linked to that notice
 * ({@code notice.reply-received}); it is not a notice attempt and never proof for the gate: a From header is anyone's
 * to write and a Message-ID leaks with every forward;</li>
 * <li>the sender's tenant is the notice's, or the tenants whose contact e-mail is the sender's address;</li>
 * <li>{@link PreservationClassifier#classifyMail}: PRESERVATION or UNSURE places a PRESERVATION_REQUEST hold on each
 * such tenant at once and flags the message for review; from an unknown sender it is audited for review
 * ({@code hold.preservation-unplaced}), never dropped;</li>
 * <li>bounces and auto-replies are stored as AUTOMATED and left to {@link BounceReader}.</li>
 * </ul>
 * A message stored but not acted on (a crash between the two) is acted on at the next round. Nothing is marked or
 * deleted in the mailbox.
 */
@ApplicationScoped
public class MailboxWatcher {

    private static final Logger LOG = Logger.getLogger(MailboxWatcher.class);
    public static final String ACTOR = "system/mailbox";

    @Inject
    MailboxConfig config;
    @Inject
    io.metalgate.integration.outbound.OutboundConfig outbound;
    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    HoldService holds;
    @Inject
    LeaseEventIntake intake;

    /** What one round did. */
    public record Round(int stored, int acted) {
    }

    @Scheduled(every = "${metalgate.integrations.imap.poll-interval:PT60S}", delayed = "${metalgate.integrations.imap.poll-delay:PT7S}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void poll() {
        if (config.url().isPresent()) {
            try {
                readOnce();
            } catch (MessagingException | IOException | RuntimeException e) {
                LOG.warn("Reading the inbound mailbox failed: " + e.getMessage());
            }
        }
    }

    /** Reads the mailbox's new messages once, stores each, acts on what is stored and not yet acted on. Blocking. */
    public synchronized Round readOnce() throws MessagingException, IOException {
        ImapMailbox box = new ImapMailbox(config.url().orElseThrow(), config.user(), config.passwordFile());
        String key = box.key();
        int stored = 0;
        try (Store store = box.connect()) {
            Folder folder = store.getFolder(box.folder());
            folder.open(Folder.READ_ONLY);
            try {
                UIDFolder uids = (UIDFolder) folder;
                long validity = uids.getUIDValidity();
                long last = await(pool.preparedQuery("SELECT uid_validity, last_uid FROM mailbox_cursor WHERE mailbox = $1")
                        .execute(Tuple.of(key)).map(rows -> {
                            if (rows.size() == 0) {
                                return 0L;
                            }
                            Row r = rows.iterator().next();
                            // another UIDVALIDITY: the UIDs mean other messages now; read all again (stored ones are known by Message-ID)
                            return r.getLong("uid_validity") == validity ? r.getLong("last_uid") : 0L;
                        }));
                for (Message m : uids.getMessagesByUID(last + 1, UIDFolder.LASTUID)) {
                    long uid = uids.getUID(m);
                    if (uid <= last) {
                        continue; // a LASTUID range always returns the last message
                    }
                    try {
                        if (store(key, validity, uid, (MimeMessage) m)) {
                            stored++;
                        }
                    } catch (MessagingException | IOException | RuntimeException e) {
                        // one message that cannot be read or stored must not stop the mailbox: kept as a dead letter, skipped
                        skip(key, validity, uid, m, e);
                    }
                    last = uid;
                }
            } finally {
                folder.close(false);
            }
        }
        int acted = 0;
        List<UUID> pending = await(pool.query("SELECT id FROM inbound_mail WHERE status = 'RECEIVED' ORDER BY received_at, id LIMIT 500").execute()
                .map(rows -> {
                    List<UUID> ids = new ArrayList<>();
                    rows.forEach(r -> ids.add(r.getUUID(0)));
                    return ids;
                }));
        for (UUID id : pending) {
            try {
                if (Boolean.TRUE.equals(awaitOn(() -> act(id)))) {
                    acted++;
                }
            } catch (RuntimeException e) {
                // stays RECEIVED: acted on again next round; the others go on
                LOG.warnf("acting on stored mail %s failed: %s", id, e.toString());
            }
        }
        return new Round(stored, acted);
    }

    // ------------------------------------------------------------------------------------------------ store

    /** A message that could not be stored: kept whole as a dead letter with the reason, and the cursor moved past it. */
    private void skip(String mailbox, long validity, long uid, Message m, Exception why) {
        String body;
        try {
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            m.writeTo(raw);
            body = new String(raw.toByteArray(), 0, Math.min(raw.size(), config.maxStoredBytes()), StandardCharsets.UTF_8);
        } catch (MessagingException | IOException | RuntimeException unreadable) {
            body = "(the message could not be read from the mailbox: " + unreadable + ")";
        }
        String message = body;
        String reason = "mail UID " + uid + " in " + mailbox + " could not be stored: " + why;
        LOG.warnf("%s; kept as a dead letter", reason);
        awaitOn(() -> intake.deadLetter("mailbox:" + mailbox, message, reason, ACTOR));
        await(pool.preparedQuery("INSERT INTO mailbox_cursor (mailbox, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, now()) "
                + "ON CONFLICT (mailbox) DO UPDATE SET uid_validity = $2, last_uid = $3, updated_at = now()").execute(Tuple.of(mailbox, validity, uid)));
    }

    /** Stores one message and moves the cursor past it, in one transaction; false when its Message-ID was stored before. */
    private boolean store(String mailbox, long validity, long uid, MimeMessage m) throws MessagingException, IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        m.writeTo(raw);
        byte[] bytes = raw.toByteArray();
        String rawSha = AuditHashes.sha256Hex(bytes);
        String messageId = m.getMessageID() == null || m.getMessageID().isBlank() ? "sha256:" + rawSha : m.getMessageID().strip();
        String from = sender(m);
        String subject = m.getSubject();
        String inReplyTo = header(m, "In-Reply-To");
        String refs = header(m, "References");
        String kind;
        String matched;
        if (automated(m)) {
            kind = "AUTOMATED";
            matched = "a bounce or an automatic reply (RFC 3834 / 3464): left to the bounce reader";
        } else {
            Content c = content(m);
            PreservationClassifier.MailVerdict v = PreservationClassifier.classifyMail(subject, c.text(), c.unreadable());
            kind = v.kind().name();
            matched = v.why();
        }
        String keep = new String(bytes, 0, Math.min(bytes.length, config.maxStoredBytes()), StandardCharsets.UTF_8);
        UUID id = UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("mailId", id.toString());
        payload.put("mailbox", mailbox);
        payload.put("uid", uid);
        payload.put("messageId", messageId);
        payload.put("from", from);
        payload.put("rawSha256", rawSha);
        payload.put("classification", kind);
        payload.put("matched", matched);
        return await(pool.withTransaction(tx -> tx.preparedQuery("INSERT INTO inbound_mail (id, mailbox, uid, message_id, from_address, subject, "
                + "in_reply_to, refs, received_at, raw_sha256, raw, classification, matched, status) "
                + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'RECEIVED') ON CONFLICT (message_id) DO NOTHING")
                .execute(Tuple.from(java.util.Arrays.asList(id, mailbox, uid, messageId, from, subject, inReplyTo, refs, now.atOffset(ZoneOffset.UTC),
                        rawSha, LeaseEventIntake.storable(keep), kind, matched)))
                .chain(rows -> {
                    Uni<Boolean> recorded = rows.rowCount() == 0 ? Uni.createFrom().item(false)
                            : audit.record(tx, ACTOR, "integration.mail-received", "mail:" + messageId, payload).replaceWith(true);
                    return recorded.call(() -> tx.preparedQuery("INSERT INTO mailbox_cursor (mailbox, uid_validity, last_uid, updated_at) "
                            + "VALUES ($1, $2, $3, now()) ON CONFLICT (mailbox) DO UPDATE SET uid_validity = $2, last_uid = $3, updated_at = now()")
                            .execute(Tuple.of(mailbox, validity, uid)));
                })).call(audit::sequenced));
    }

    // ------------------------------------------------------------------------------------------------- act

    private static final Pattern MESSAGE_ID = Pattern.compile("<[^<>\\s]+>");

    /**
     * Acts on a stored message once: claims its row, links a reply to its notice, places the holds its classification
     * asks for (or audits that none could be placed), all in one transaction. True when this call acted on it.
     */
    Uni<Boolean> act(UUID id) {
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                "SELECT message_id, from_address, in_reply_to, refs, classification, matched, subject FROM inbound_mail "
                        + "WHERE id = :id AND status = 'RECEIVED' FOR UPDATE", Object[].class).setParameter("id", id).getResultList())
                .chain(rows -> {
                    if (rows.isEmpty()) {
                        return Uni.createFrom().item(false);
                    }
                    Object[] r = rows.get(0);
                    String messageId = (String) r[0];
                    String from = (String) r[1];
                    String kind = (String) r[4];
                    String matched = (String) r[5];
                    Set<String> named = new LinkedHashSet<>();
                    for (Object h : new Object[] {r[2], r[3]}) {
                        if (h != null) {
                            Matcher mm = MESSAGE_ID.matcher((String) h);
                            while (mm.find()) {
                                named.add(mm.group());
                            }
                        }
                    }
                    Acted acted = new Acted();
                    Uni<Void> work = "AUTOMATED".equals(kind) ? Uni.createFrom().voidItem()
                            : linkReply(id, messageId, from, named, acted).chain(() -> tenantsOf(from, acted))
                                    .chain(() -> holdIfAsked(id, messageId, from, kind, matched, (String) r[6], acted));
                    return work.chain(() -> Panache.getSession().chain(s -> s.createNativeQuery("UPDATE inbound_mail SET status = 'APPLIED', "
                            + "review = :review, review_reason = :why, tenant_ids = :tenants, notice_id = CAST(:notice AS uuid), "
                            + "hold_ids = :holds WHERE id = :id")
                            .setParameter("review", acted.review).setParameter("why", acted.reviewReason)
                            .setParameter("tenants", join(acted.tenants)).setParameter("notice", acted.noticeId == null ? null : acted.noticeId.toString())
                            .setParameter("holds", join(acted.holds)).setParameter("id", id).executeUpdate()))
                            .replaceWith(true);
                })).call(audit::sequenced);
    }

    /** What acting on a message found and did. */
    private static final class Acted {
        UUID noticeId;
        final Set<UUID> tenants = new LinkedHashSet<>();
        final List<UUID> holds = new ArrayList<>();
        boolean review;
        String reviewReason;
    }

    /**
     * A reply to one of our notice e-mails: linked to that notice (the mail's row and an audit entry), never counted as
     * proof. Anyone can write a From header, and a Message-ID travels with every forward and quote, so a reply proves
     * nothing the gate may erase on; the proof of an e-mail notice stays the SMTP server's 2xx reply (and the tenant's
     * acknowledgment on its signed page). A reply can only hold (its words are classified like any message).
     */
    private Uni<Void> linkReply(UUID mailId, String messageId, String from, Set<String> named, Acted acted) {
        if (named.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Panache.getSession().chain(s -> s.createNativeQuery("SELECT d.notice_id, n.tenant_id, d.message_id, n.kind, d.attempt_id "
                + "FROM outbound_delivery d JOIN notice n ON n.id = d.notice_id WHERE d.message_id IN (:ids) AND d.channel = 'EMAIL' "
                + "ORDER BY d.id LIMIT 1", Object[].class).setParameter("ids", List.copyOf(named)).getResultList())
                .chain(found -> {
                    if (found.isEmpty()) {
                        return Uni.createFrom().voidItem();
                    }
                    Object[] f = found.get(0);
                    acted.noticeId = (UUID) f[0];
                    acted.tenants.add((UUID) f[1]);
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put("noticeId", acted.noticeId.toString());
                    p.put("kind", f[3]);
                    p.put("mailId", mailId.toString());
                    p.put("reply", messageId);
                    p.put("from", from);
                    p.put("inReplyTo", f[2]);
                    p.put("countsAsProof", false);
                    return audit.record(ACTOR, "notice.reply-received", "tenant:" + f[1], p).replaceWithVoid();
                });
    }

    /** The sender's tenants by contact e-mail (when no notice named it). */
    private Uni<Void> tenantsOf(String from, Acted acted) {
        if (!acted.tenants.isEmpty() || from == null) {
            return Uni.createFrom().voidItem();
        }
        return Panache.getSession().chain(s -> s.createNativeQuery("SELECT id FROM tenant WHERE lower(contact_email) = :a ORDER BY id", UUID.class)
                .setParameter("a", from.toLowerCase(Locale.ROOT)).getResultList()).invoke(acted.tenants::addAll).replaceWithVoid();
    }

    /** Fail safe: a message that reads like a preservation request, or cannot be read whole, holds the sender's tenants and asks for review. */
    private Uni<Void> holdIfAsked(UUID mailId, String messageId, String from, String kind, String matched, String subject, Acted acted) {
        if (!"PRESERVATION".equals(kind) && !"UNSURE".equals(kind)) {
            return Uni.createFrom().voidItem();
        }
        acted.review = true;
        String reason = "e-mail " + messageId + " from " + from + (subject == null ? "" : " (\"" + abbreviate(subject, 200) + "\")")
                + ("PRESERVATION".equals(kind) ? " looks like a preservation request" : " could not be classified") + " (" + matched
                + "); placed automatically, to be reviewed by a person";
        if (acted.tenants.isEmpty()) {
            acted.reviewReason = reason + "; the sender is no tenant's contact and names no notice, so no tenant could be held";
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("mailId", mailId.toString());
            p.put("messageId", messageId);
            p.put("from", from);
            p.put("reason", acted.reviewReason);
            return audit.record(ACTOR, "hold.preservation-unplaced", "mail:" + messageId, p).replaceWithVoid();
        }
        acted.reviewReason = reason;
        Uni<Void> chain = Uni.createFrom().voidItem();
        for (UUID tenant : acted.tenants) {
            chain = chain.chain(() -> holds.place(new HoldService.HoldRequest(Hold.Kind.PRESERVATION_REQUEST, tenant, null, null, reason), ACTOR)
                    .invoke(h -> acted.holds.add(h.id())).replaceWithVoid());
        }
        return chain;
    }

    // --------------------------------------------------------------------------------------------- reading

    /** The text of a message and, when some of it cannot be read as text, what that is. */
    record Content(String text, String unreadable) {
    }

    static Content content(Part p) {
        StringBuilder text = new StringBuilder();
        List<String> unreadable = new ArrayList<>();
        collect(p, text, unreadable, 0);
        return new Content(text.toString(), unreadable.isEmpty() ? null : String.join(", ", unreadable));
    }

    private static void collect(Part p, StringBuilder text, List<String> unreadable, int depth) {
        try {
            String disposition = p.getDisposition();
            if (p.isMimeType("multipart/*") && depth < 10) {
                Multipart mp = (Multipart) p.getContent();
                boolean alternative = p.isMimeType("multipart/alternative");
                for (int i = 0; i < mp.getCount(); i++) {
                    Part part = mp.getBodyPart(i);
                    if (alternative && text.length() > 0 && part.isMimeType("text/html")) {
                        continue; // the plain alternative was read
                    }
                    collect(part, text, unreadable, depth + 1);
                }
            } else if (Part.ATTACHMENT.equalsIgnoreCase(disposition) || p.getFileName() != null) {
                unreadable.add("attachment " + (p.getFileName() == null ? p.getContentType() : p.getFileName()));
            } else if (p.isMimeType("text/plain")) {
                text.append(p.getContent()).append('\n');
            } else if (p.isMimeType("text/html")) {
                text.append(String.valueOf(p.getContent()).replaceAll("(?is)<(script|style)[^>]*>.*?</\\1>", " ")
                        .replaceAll("(?i)<br\\s*/?>|</p>|</div>", "\n").replaceAll("<[^>]+>", " ").replace("&nbsp;", " ").replace("&gt;", ">")
                        .replace("&lt;", "<").replace("&amp;", "&")).append('\n');
            } else {
                unreadable.add("a part of type " + p.getContentType());
            }
        } catch (MessagingException | IOException | RuntimeException e) {
            unreadable.add("a part that does not decode (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** A bounce, a delivery status notification or an automatic reply: not a person's message. */
    static boolean automated(MimeMessage m) throws MessagingException {
        String auto = header(m, "Auto-Submitted");
        String from = sender(m);
        String subject = m.getSubject() == null ? "" : m.getSubject().toLowerCase(Locale.ROOT);
        return auto != null && !auto.strip().toLowerCase(Locale.ROOT).startsWith("no") || header(m, "X-Autoreply") != null
                || header(m, "X-Autorespond") != null || "auto_reply".equalsIgnoreCase(String.valueOf(header(m, "Precedence")))
                || m.isMimeType("multipart/report") || from != null && (from.startsWith("mailer-daemon@") || from.startsWith("postmaster@"))
                || subject.startsWith("automatic reply") || subject.startsWith("out of office") || subject.startsWith("auto:");
    }

    private static String sender(MimeMessage m) throws MessagingException {
        Address[] from = m.getFrom();
        if (from == null || from.length == 0) {
            return null;
        }
        return from[0] instanceof InternetAddress ia ? ia.getAddress().toLowerCase(Locale.ROOT) : from[0].toString().toLowerCase(Locale.ROOT);
    }

    private static String header(MimeMessage m, String name) throws MessagingException {
        String v = m.getHeader(name, " ");
        return v == null ? null : v.strip();
    }

    private static String join(java.util.Collection<UUID> ids) {
        return ids.isEmpty() ? null : String.join(",", ids.stream().map(UUID::toString).toList());
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "…";
    }

    private static String json(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** Runs {@code uni} on a Vert.x context safe for Hibernate Reactive and waits for it (the poller's thread is a worker). */
    private static <T> T await(Uni<T> uni) {
        return awaitOn(() -> uni);
    }

    /** {@link #await}, the Uni made on that context (Panache needs its session there). */
    private static <T> T awaitOn(java.util.function.Supplier<Uni<T>> uni) {
        try {
            return VertxContextSupport.subscribeAndAwait(uni);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
