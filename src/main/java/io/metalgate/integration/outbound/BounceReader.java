package io.metalgate.integration.outbound;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.URLName;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Reads bounces and auto-replies of notice e-mails back over IMAP ({@code metalgate.outbound.email.imap-url}) and marks
 * the delivery, and its notice attempt, BOUNCED. A message is linked by the Message-IDs of ours it names: In-Reply-To
 * and References of an auto-reply, the returned headers of a delivery status notification (RFC 3464, {@code Action:
 * failed}) or of a mailer daemon's plain bounce. Anything else (a person's reply) is left alone, unread, for the
 * inbound mailbox watcher. Messages are read by UID from the last one seen; marking the same bounce twice does nothing.
 */
@ApplicationScoped
public class BounceReader {

    private static final Logger LOG = Logger.getLogger(BounceReader.class);

    /** What a returned message says about one of our messages. */
    public record Bounce(String originalMessageId, String kind, String detail) {
    }

    @Inject
    OutboundConfig config;
    @Inject
    OutboxRelay relay;

    private volatile long lastUid;

    @Scheduled(every = "${metalgate.outbound.email.imap-poll-interval:PT60S}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void poll() {
        if (config.enabled() && config.email().imapUrl().isPresent()) {
            try {
                readOnce();
            } catch (MessagingException | IOException | RuntimeException e) {
                LOG.warn("Reading bounces over IMAP failed: " + e.getMessage());
            }
        }
    }

    /** Reads the mailbox's new messages once; returns how many bounces of ours it marked. Blocking: not on an event loop. */
    public int readOnce() throws MessagingException, IOException {
        ImapMailbox box = new ImapMailbox(config.email().imapUrl().orElseThrow(), config.email().imapUser(), config.email().imapPasswordFile());
        URLName url = new URLName(box.url());
        int marked = 0;
        try (Store store = box.connect()) {
            String name = box.folder();
            Folder folder = store.getFolder(name);
            folder.open(Folder.READ_WRITE);
            try {
                UIDFolder uids = (UIDFolder) folder;
                Message[] messages = uids.getMessagesByUID(lastUid + 1, UIDFolder.LASTUID);
                for (Message m : messages) {
                    long uid = uids.getUID(m);
                    if (uid <= lastUid) {
                        continue; // LASTUID ranges always return the last message
                    }
                    Optional<Bounce> b = classify((MimeMessage) m, config.email().messageIdDomain());
                    if (b.isPresent()) {
                        String proof = "IMAP " + url.getHost() + "/" + name + " UID " + uid + ": " + b.get().kind() + " for "
                                + b.get().originalMessageId() + (b.get().detail().isEmpty() ? "" : " (" + b.get().detail() + ")");
                        Boolean known = relay.bounced(b.get().originalMessageId(), proof.length() > 3900 ? proof.substring(0, 3900) : proof)
                                .await().atMost(Duration.ofSeconds(30));
                        m.setFlag(Flags.Flag.SEEN, true);
                        if (Boolean.TRUE.equals(known)) {
                            marked++;
                        }
                    }
                    lastUid = Math.max(lastUid, uid);
                }
            } finally {
                folder.close(false);
            }
        }
        return marked;
    }

    private static final Pattern DSN_FAILED = Pattern.compile("(?im)^Action:\\s*failed");
    private static final Pattern STATUS = Pattern.compile("(?im)^(Status|Diagnostic-Code):\\s*(.+)$");

    /** What {@code m} says of one of our messages (Message-IDs ending in {@code @domain}), if it is a bounce or an auto-reply. */
    public static Optional<Bounce> classify(MimeMessage m, String domain) throws MessagingException, IOException {
        Pattern ours = Pattern.compile("<[^<>\\s@]+@" + Pattern.quote(domain) + ">");
        String own = m.getMessageID();
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        m.writeTo(raw);
        String text = raw.toString(StandardCharsets.UTF_8);
        String contentType = String.valueOf(m.getContentType()).toLowerCase(Locale.ROOT);
        String from = m.getFrom() == null || m.getFrom().length == 0 ? "" : m.getFrom()[0].toString().toLowerCase(Locale.ROOT);
        String subject = m.getSubject() == null ? "" : m.getSubject().toLowerCase(Locale.ROOT);
        String kind = null;
        if (contentType.contains("multipart/report") && contentType.contains("delivery-status")) {
            kind = DSN_FAILED.matcher(text).find() ? "delivery status notification: failed" : null;
        } else if ((from.contains("mailer-daemon") || from.contains("postmaster"))
                && (subject.contains("undeliver") || subject.contains("failure") || subject.contains("returned")
                        || subject.contains("delivery status") || subject.contains("not delivered"))) {
            kind = "bounce from " + from;
        } else if (header(m, "Auto-Submitted").toLowerCase(Locale.ROOT).startsWith("auto-replied") || !header(m, "X-Autoreply").isEmpty()
                || !header(m, "X-Autorespond").isEmpty() || header(m, "Precedence").equalsIgnoreCase("auto_reply")
                || subject.startsWith("auto:") || subject.startsWith("automatic reply") || subject.startsWith("out of office")) {
            kind = "auto-reply";
        }
        if (kind == null) {
            return Optional.empty();
        }
        Set<String> ids = new LinkedHashSet<>();
        for (String h : new String[] {"In-Reply-To", "References"}) {
            Matcher hm = ours.matcher(header(m, h));
            while (hm.find()) {
                ids.add(hm.group());
            }
        }
        Matcher tm = ours.matcher(text);
        while (tm.find()) {
            ids.add(tm.group());
        }
        if (own != null) {
            ids.remove(own);
        }
        if (ids.isEmpty()) {
            return Optional.empty();
        }
        StringBuilder detail = new StringBuilder();
        Matcher sm = STATUS.matcher(text);
        while (sm.find() && detail.length() < 500) {
            detail.append(detail.length() == 0 ? "" : "; ").append(sm.group(1)).append(": ").append(sm.group(2).strip());
        }
        return Optional.of(new Bounce(ids.iterator().next(), kind, detail.toString()));
    }

    private static String header(MimeMessage m, String name) throws MessagingException {
        String v = m.getHeader(name, ",");
        return v == null ? "" : v.strip();
    }
}
