package io.metalgate.integration;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.MailboxPeers;
import io.metalgate.testing.OutboundPeers;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.activation.DataHandler;
import jakarta.inject.Inject;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The inbound mailbox against a real IMAP server: mails are sent over SMTP into GreenMail's {@value MailboxPeers#INBOX}
 * and the watcher reads them over IMAP. A reply to a notice e-mail is linked to the notice; a preservation request, or a
 * message it cannot read whole, holds the sender's tenant for review; an unknown sender's request is kept and audited
 * for review; reading again (or after the cursor is lost) acts on nothing twice.
 */
@QuarkusTest
@TestProfile(MailboxWatcherTest.Peers.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class MailboxWatcherTest {

    public static class Peers implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(MailboxPeers.class));
        }
    }

    @Inject
    MailboxWatcher watcher;

    private static MimeMessage mail(String from, String subject) throws Exception {
        Properties p = new Properties();
        p.put("mail.smtp.host", "127.0.0.1");
        p.put("mail.smtp.port", String.valueOf(OutboundPeers.mail().getSmtp().getPort()));
        MimeMessage m = new MimeMessage(Session.getInstance(p));
        m.setFrom(new InternetAddress(from));
        m.setRecipients(Message.RecipientType.TO, MailboxPeers.INBOX);
        m.setSubject(subject, "UTF-8");
        return m;
    }

    /** Sends over SMTP as it stands (Transport.send would save changes again: a new Message-ID). */
    private static String send(MimeMessage m) throws Exception {
        m.saveChanges();
        String id = m.getMessageID();
        deliver(m);
        return id;
    }

    private static void deliver(MimeMessage m) throws Exception {
        try (Transport t = m.getSession().getTransport("smtp")) {
            t.connect();
            t.sendMessage(m, m.getAllRecipients());
        }
    }

    private static String text(String from, String subject, String body) throws Exception {
        MimeMessage m = mail(from, subject);
        m.setText(body, "UTF-8");
        return send(m);
    }

    private static String tenant(String email) {
        return admin().body(Map.of("name", unique("mb-tenant"), "contactEmail", email)).post("/api/tenants").then().statusCode(201).extract()
                .path("id");
    }

    private static List<Map<String, Object>> holds(String tenant) {
        return as("viewer").queryParam("tenantId", tenant).get("/api/holds").then().statusCode(200).extract().jsonPath().getList("");
    }

    private static List<Map<String, Object>> attempts(String notice) {
        return operator().get("/api/notices/" + notice).then().statusCode(200).extract().jsonPath().getList("attempts");
    }

    private static void await(String what, java.util.function.BooleanSupplier ok) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    private static String mailColumn(String column, String messageId) {
        return sqlValue("SELECT " + column + "::text FROM inbound_mail WHERE message_id = ?", messageId);
    }

    @Test
    void aReplyIsLinkedToItsNoticeAndItsQuoteOfTheNoticeHoldsNothing() throws Exception {
        String address = unique("reply") + "@customer.test";
        String tenant = tenant(address);
        String notice = operator().body(Map.of("kind", "TERMINATION", "tenantId", tenant)).post("/api/notices").then().statusCode(201).extract()
                .path("id");
        await("the notice e-mail", () -> attempts(notice).size() == 1);
        MimeMessage sent = Arrays.stream(OutboundPeers.mail().getReceivedMessages()).filter(m -> {
            try {
                return m.getAllRecipients()[0].toString().equals(address);
            } catch (Exception e) {
                return false;
            }
        }).findFirst().orElseThrow();
        String ours = sent.getMessageID();
        // a person's reply, quoting the notice (which itself speaks of preserving and exporting data)
        MimeMessage reply = mail(address, "Re: " + sent.getSubject());
        reply.setText("Thanks, received. We will move out by the deadline.\n\nOn Mon, 1 Dec 2026 at 10:00, notices@provider.test wrote:\n> "
                + String.valueOf(sent.getContent()).replace("\n", "\n> "), "UTF-8");
        reply.setHeader("In-Reply-To", ours);
        reply.setHeader("References", ours);
        String replyId = send(reply);

        MailboxWatcher.Round round = watcher.readOnce();
        assertTrue(round.stored() >= 1 && round.acted() >= 1, round.toString());
        // linked, but no attempt and no proof: a From header and a leaked Message-ID are anyone's to write
        List<Map<String, Object>> attempts = attempts(notice);
        assertEquals(1, attempts.size(), "a reply is not a notice attempt: " + attempts);
        assertTrue(attempts.stream().noneMatch(a -> MailboxWatcher.ACTOR.equals(a.get("recordedBy"))), attempts.toString());
        String linked = sqlValue("SELECT payload FROM audit_entry WHERE action = 'notice.reply-received' AND payload LIKE ?", "%" + replyId + "%");
        assertTrue(linked != null && linked.contains("\"countsAsProof\":false") && linked.contains(notice), String.valueOf(linked));
        assertEquals(0, holds(tenant).size(), "the quoted notice is not the sender's words");
        assertEquals("NONE", mailColumn("classification", replyId));
        assertEquals(notice, mailColumn("notice_id", replyId));
        assertEquals("false", mailColumn("review", replyId));

        // read again, and read again after the cursor is lost (a new UIDVALIDITY, a wiped row): nothing acted on twice
        assertEquals(0, watcher.readOnce().stored());
        PostgresTestResource.sql("DELETE FROM mailbox_cursor WHERE mailbox = ?", MailboxPeers.INBOX + "@127.0.0.1:"
                + OutboundPeers.mail().getImap().getPort() + "/INBOX");
        assertEquals(0, watcher.readOnce().stored());
        assertEquals(1, attempts(notice).size());
    }

    @Test
    void aPreservationRequestOrAnUnreadableMessageHoldsTheSendersTenantForReview() throws Exception {
        String address = unique("Legal") + "@Customer.test";
        String tenant = tenant(address.toLowerCase(java.util.Locale.ROOT));
        String request = text(address, "Our data", "Hello,\nplease do not delete anything on our servers: our counsel expects a lawsuit.\nJo");
        // a resend of the same message (same Message-ID): stored once, held once
        MimeMessage again = mail(address, "Our data");
        again.setText("Hello,\nplease do not delete anything on our servers: our counsel expects a lawsuit.\nJo", "UTF-8");
        again.saveChanges();
        again.setHeader("Message-ID", request);
        deliver(again);
        MailboxWatcher.Round round = watcher.readOnce();
        assertEquals(1, round.stored(), round.toString());
        List<Map<String, Object>> held = holds(tenant);
        assertEquals(1, held.size(), held.toString());
        assertEquals("PRESERVATION_REQUEST", held.get(0).get("kind"));
        assertEquals(MailboxWatcher.ACTOR, held.get(0).get("placedBy"));
        assertTrue(((String) held.get(0).get("reason")).contains(request), held.toString());
        assertEquals("PRESERVATION", mailColumn("classification", request));
        assertEquals("true", mailColumn("review", request));
        assertEquals(held.get(0).get("id"), mailColumn("hold_ids", request));

        // a message it cannot read whole (a scanned letter): unsure, so held too
        MimeMessage letter = mail(address, "Letter");
        MimeMultipart mp = new MimeMultipart();
        MimeBodyPart body = new MimeBodyPart();
        body.setText("See the attached.", "UTF-8");
        MimeBodyPart pdf = new MimeBodyPart();
        pdf.setDataHandler(new DataHandler(new ByteArrayDataSource(new byte[] {'%', 'P', 'D', 'F', '-', '1'}, "application/pdf")));
        pdf.setFileName("letter.pdf");
        mp.addBodyPart(body);
        mp.addBodyPart(pdf);
        letter.setContent(mp);
        String letterId = send(letter);
        // a readable note with nothing of preservation: kept, no hold
        String chat = text(address, "Invoice address", "Please send invoices to our new address from next month on.");
        watcher.readOnce();
        assertEquals("UNSURE", mailColumn("classification", letterId));
        assertTrue(mailColumn("matched", letterId).contains("letter.pdf"));
        assertEquals("NONE", mailColumn("classification", chat));
        assertEquals(2, holds(tenant).size());
        as("legal").queryParam("review", true).get("/api/integrations/mailbox/messages").then().statusCode(200)
                .body("messageId", org.hamcrest.Matchers.hasItems(request, letterId))
                .body("messageId", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(chat)));
        as("viewer").get("/api/integrations/mailbox/messages").then().statusCode(403);
    }

    @Test
    void anUnknownSendersRequestIsKeptAndAuditedForReviewAndAnAutoReplyIsLeftAlone() throws Exception {
        String stranger = unique("stranger") + "@elsewhere.test";
        String request = text(stranger, "Legal hold", "We represent a former customer of yours; preserve their servers.");
        MimeMessage auto = mail(stranger, "Automatic reply: preservation");
        auto.setText("I am out of office until Monday.", "UTF-8");
        auto.setHeader("Auto-Submitted", "auto-replied");
        String autoId = send(auto);
        watcher.readOnce();
        assertEquals("PRESERVATION", mailColumn("classification", request));
        assertEquals("true", mailColumn("review", request));
        assertTrue(mailColumn("review_reason", request).contains("no tenant could be held"));
        assertEquals(null, mailColumn("hold_ids", request));
        admin().queryParam("subject", "mail:" + request).get("/api/audit").then().statusCode(200)
                .body("items.action", org.hamcrest.Matchers.hasItems("integration.mail-received", "hold.preservation-unplaced"));
        assertEquals("AUTOMATED", mailColumn("classification", autoId));
        assertEquals("false", mailColumn("review", autoId));
        assertEquals("APPLIED", mailColumn("status", autoId));
        String raw = mailColumn("raw", request);
        assertNotNull(raw);
        assertTrue(raw.contains("preserve their servers"));
        assertFalse(mailColumn("raw_sha256", request).isBlank());
    }

    @Test
    void aMessageThatCannotBeStoredIsADeadLetterAndTheMailboxGoesOn() throws Exception {
        String sender = unique("poison") + "@tenant.test";
        // a Message-ID longer than the column holds: storing it fails (a message the watcher cannot keep as such)
        MimeMessage poison = new MimeMessage(mail(sender, "x").getSession()) {
            @Override
            protected void updateMessageID() throws jakarta.mail.MessagingException {
                setHeader("Message-ID", "<" + "p".repeat(1200) + "@tenant.test>");
            }
        };
        poison.setFrom(new InternetAddress(sender));
        poison.setRecipients(Message.RecipientType.TO, MailboxPeers.INBOX);
        poison.setSubject("Please preserve our data", "UTF-8");
        poison.setText("Please preserve all our servers.", "UTF-8");
        send(poison);
        String after = text(sender, "Another message", "Hello there.");
        watcher.readOnce();
        // the next message was read: the mailbox did not stop at the one it could not store
        assertNotNull(mailColumn("status", after));
        assertEquals("1", sqlValue("SELECT count(*) FROM dead_letter WHERE channel LIKE 'mailbox:%' AND body LIKE ?", "%" + "p".repeat(1200) + "%"));
        watcher.readOnce();
        assertEquals("1", sqlValue("SELECT count(*) FROM dead_letter WHERE channel LIKE 'mailbox:%' AND body LIKE ?", "%" + "p".repeat(1200) + "%"),
                "read past, not again");
    }

    @Test
    void theClassifierReadsOnlyTheSendersOwnWords() {
        var quoted = PreservationClassifier.classifyMail("Re: Notice of erase", "ok\n\nOn Tue, X wrote:\n> ask for your data to be preserved",
                null);
        assertEquals(PreservationClassifier.MailKind.NONE, quoted.kind());
        assertEquals(PreservationClassifier.MailKind.PRESERVATION, PreservationClassifier.classifyMail("Bitte nicht löschen", "", null).kind());
        assertEquals(PreservationClassifier.MailKind.UNSURE, PreservationClassifier.classifyMail("hi", "", null).kind(), "nothing to read: hold");
        assertEquals(PreservationClassifier.MailKind.UNSURE, PreservationClassifier.classifyMail("hi", "see attached", "attachment x.pdf").kind());
        assertEquals(PreservationClassifier.MailKind.PRESERVATION, PreservationClassifier.classifyMail("hi", "> quoted\nlitigation ahead",
                null).kind());
    }
}
