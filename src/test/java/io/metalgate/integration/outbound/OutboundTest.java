package io.metalgate.integration.outbound;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.user.GreenMailUser;
import io.metalgate.testing.OutboundPeers;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Outbound notices against real peers: GreenMail (SMTP and IMAP) and a Vert.x HTTP receiver. Every notice leaves by
 * e-mail with its Message-ID and the server's acceptance as proof; a crash between send and record resends the same
 * Message-ID / idempotency key and records one attempt; a bounce read over IMAP makes the attempt BOUNCED; webhooks are
 * signed, retried with backoff, given up visibly; tickets follow gate events.
 */
@QuarkusTest
@TestProfile(OutboundTest.Peers.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class OutboundTest {

    public static class Peers implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OutboundPeers.class));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    OutboxRelay relay;
    @Inject
    BounceReader bounces;

    static void await(String what, BooleanSupplier ok) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (ok.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    static String tenant(String email) {
        return admin().body(Map.of("name", unique("ob-tenant"), "contactEmail", email)).post("/api/tenants").then().statusCode(201)
                .extract().path("id");
    }

    static String notice(String tenant, String kind) {
        return operator().body(Map.of("kind", kind, "tenantId", tenant)).post("/api/notices").then().statusCode(201).extract().path("id");
    }

    static List<Map<String, Object>> attempts(String notice) {
        return operator().get("/api/notices/" + notice).then().statusCode(200).extract().jsonPath().getList("attempts");
    }

    static List<Map<String, Object>> deliveries(String notice) {
        return as("viewer").queryParam("noticeId", notice).get("/api/outbound/deliveries").then().statusCode(200).extract().jsonPath()
                .getList("");
    }

    static List<MimeMessage> mailTo(String address) {
        return Arrays.stream(OutboundPeers.mail().getReceivedMessages()).filter(m -> {
            try {
                return m.getAllRecipients()[0].toString().equals(address);
            } catch (jakarta.mail.MessagingException e) {
                return false;
            }
        }).toList();
    }

    static String messageId(MimeMessage m) {
        try {
            return m.getMessageID();
        } catch (jakarta.mail.MessagingException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aNoticeLeavesByEmailWithItsMessageIdAsProofAndALink() throws Exception {
        String address = unique("it") + "@customer.test";
        String tenant = tenant(address);
        String notice = notice(tenant, "TERMINATION");
        await("the notice's e-mail attempt", () -> attempts(notice).size() == 1);
        Map<String, Object> attempt = attempts(notice).get(0);
        assertEquals("EMAIL", attempt.get("channel"));
        assertEquals("SENT", attempt.get("outcome"));
        assertEquals("system/outbound", attempt.get("recordedBy"));
        JsonNode proof = JSON.readTree((String) attempt.get("proof"));
        List<MimeMessage> got = mailTo(address);
        assertEquals(1, got.size());
        MimeMessage m = got.get(0);
        // the proof names the message the tenant's server holds, by the Message-ID stored before sending
        assertEquals(messageId(m), proof.path("messageId").asText());
        assertTrue(proof.path("messageId").asText().endsWith("@" + OutboundPeers.DOMAIN + ">"), proof.toString());
        assertEquals("2xx to end of DATA", proof.path("smtp").asText());
        assertEquals(address, proof.path("to").asText());
        Map<String, Object> d = deliveries(notice).get(0);
        assertEquals("SENT", d.get("status"));
        assertEquals(proof.path("messageId").asText(), d.get("messageId"));
        assertEquals(attempt.get("id"), d.get("attemptId"));
        String body = m.getContent().toString();
        assertTrue(body.contains("https://metalgate.provider.test/notice/"), body);
        assertTrue(body.contains(notice), body);
        assertEquals("notices@provider.test", m.getFrom()[0].toString());
        // audited as the appliance's own attempt
        await("the attempt chained", () -> as("legal").queryParam("subject", "tenant:" + tenant).queryParam("action", "notice.attempt-recorded")
                .get("/api/audit").then().statusCode(200).extract().asString().contains(notice));
    }

    @Test
    void aTenantWithoutAnAddressIsAFailedDeliveryNotASilence() {
        String tenant = admin().body(Map.of("name", unique("ob-noaddr"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        String notice = notice(tenant, "SUSPENSION");
        await("a failed delivery", () -> !deliveries(notice).isEmpty());
        Map<String, Object> d = deliveries(notice).get(0);
        assertEquals("FAILED", d.get("status"));
        assertTrue(((String) d.get("lastError")).contains("no contact e-mail"), d.toString());
        assertTrue(attempts(notice).isEmpty(), "nothing was sent, nothing is recorded as an attempt");
    }

    @Test
    void aCrashBetweenSendAndRecordResendsTheSameMessageIdAndRecordsOneAttempt() throws Exception {
        String address = unique("crash") + "@customer.test";
        String tenant = tenant(address);
        relay.simulateCrashAfterSend(OutboxRelay.Channel.EMAIL, 1);
        String notice = notice(tenant, "ERASE");
        await("the first send", () -> mailTo(address).size() == 1);
        // the send happened, the record did not: the delivery is still PENDING, claimed, with no attempt
        Map<String, Object> pending = deliveries(notice).get(0);
        assertEquals("PENDING", pending.get("status"));
        assertTrue(attempts(notice).isEmpty());
        // after the claim runs out the relay sends it again, the same message, and this time records it
        await("the resend recorded", () -> "SENT".equals(deliveries(notice).get(0).get("status")));
        List<MimeMessage> got = mailTo(address);
        assertEquals(2, got.size(), "at least once on the wire: sent twice");
        assertEquals(messageId(got.get(0)), messageId(got.get(1)), "the resend carries the same Message-ID");
        assertEquals(got.get(0).getContent().toString(), got.get(1).getContent().toString());
        Set<String> distinct = got.stream().map(OutboundTest::messageId).collect(Collectors.toSet());
        assertEquals(1, distinct.size(), "once after dedup by Message-ID");
        assertEquals(1, attempts(notice).size(), "one attempt recorded");
        assertEquals(2, ((Number) deliveries(notice).get(0).get("attempts")).intValue());
        assertTrue(((String) attempts(notice).get(0).get("proof")).contains(messageId(got.get(0))));
    }

    @Test
    void aBounceReadOverImapMakesTheAttemptBouncedNotProof() throws Exception {
        String address = unique("gone") + "@customer.test";
        String tenant = tenant(address);
        String notice = notice(tenant, "TERMINATION");
        await("sent", () -> attempts(notice).size() == 1);
        String ours = messageId(mailTo(address).get(0));
        String sentAttempt = (String) attempts(notice).get(0).get("id");
        // the tenant's MX answers with an RFC 3464 delivery status notification to the bounce address
        String dsn = "From: MAILER-DAEMON@mx.customer.test\r\nTo: " + OutboundPeers.BOUNCES + "\r\nSubject: Undelivered Mail Returned to Sender\r\n"
                + "Message-ID: <dsn-1@mx.customer.test>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
                + "--B\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver your message.\r\n"
                + "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n"
                + "Final-Recipient: rfc822; " + address + "\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                + "Diagnostic-Code: smtp; 550 5.1.1 <" + address + ">: Recipient address rejected\r\n"
                + "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: notices@provider.test\r\nTo: " + address + "\r\n"
                + "Message-ID: " + ours + "\r\nSubject: Notice\r\n--B--\r\n";
        // a person's reply is not a bounce, and an auto-reply to an unknown message changes nothing
        String human = "From: " + address + "\r\nTo: " + OutboundPeers.BOUNCES + "\r\nSubject: Re: Notice\r\nIn-Reply-To: " + ours
                + "\r\nMessage-ID: <r-1@customer.test>\r\n\r\nWe object.\r\n";
        GreenMailUser box = OutboundPeers.mail().getUserManager().getUser(OutboundPeers.BOUNCES);
        box.deliver(parse(human));
        box.deliver(parse(dsn));
        assertEquals(1, bounces.readOnce());
        assertEquals(0, bounces.readOnce(), "read by UID: not twice");
        List<Map<String, Object>> attempts = attempts(notice);
        assertEquals(2, attempts.size());
        Map<String, Object> bounce = attempts.get(1);
        assertEquals("BOUNCED", bounce.get("outcome"));
        assertEquals(sentAttempt, bounce.get("supersedes"));
        assertTrue(((String) bounce.get("proof")).contains("5.1.1"), bounce.toString());
        assertEquals("BOUNCED", deliveries(notice).get(0).get("status"));
        // marking again does nothing (the delivery is no longer SENT)
        assertEquals(false, relay.bounced(ours, "again").await().indefinitely());
    }

    @Test
    void anAutoReplyIsLinkedByInReplyTo() throws Exception {
        String address = unique("away") + "@customer.test";
        String notice = notice(tenant(address), "SUSPENSION");
        await("sent", () -> attempts(notice).size() == 1);
        String ours = messageId(mailTo(address).get(0));
        MimeMessage auto = parse("From: " + address + "\r\nTo: " + OutboundPeers.BOUNCES + "\r\nSubject: Automatic reply: Notice\r\n"
                + "Auto-Submitted: auto-replied\r\nIn-Reply-To: " + ours + "\r\nMessage-ID: <a-1@customer.test>\r\n\r\nI am away.\r\n");
        BounceReader.Bounce b = BounceReader.classify(auto, OutboundPeers.DOMAIN).orElseThrow();
        assertEquals(ours, b.originalMessageId());
        assertEquals("auto-reply", b.kind());
        assertTrue(BounceReader.classify(parse("From: x@y\r\nSubject: hello\r\nIn-Reply-To: " + ours + "\r\n\r\nhi\r\n"),
                OutboundPeers.DOMAIN).isEmpty(), "a person's reply is not a bounce");
    }

    static MimeMessage parse(String raw) throws Exception {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(raw.getBytes(StandardCharsets.UTF_8)));
    }

    // ---------------------------------------------------------------------------------------------- webhooks

    static String endpoint(String kind, String path, String secret, String tenant, List<String> actions) {
        Map<String, Object> body = new java.util.HashMap<>();
        body.put("name", unique("ep"));
        body.put("kind", kind);
        body.put("url", OutboundPeers.url(path));
        if (secret != null) {
            body.put("secret", secret);
        }
        if (tenant != null) {
            body.put("tenantId", tenant);
        }
        if (actions != null) {
            body.put("actions", actions);
        }
        return admin().body(body).post("/api/outbound/endpoints").then().statusCode(201).extract().path("id");
    }

    static List<OutboundPeers.Received> receivedWith(String keyPrefix) {
        return OutboundPeers.received().stream().filter(r -> r.idempotencyKey() != null && r.idempotencyKey().startsWith(keyPrefix)).toList();
    }

    @Test
    void aTenantsWebhookIsSignedRetriedWithBackoffAndProvesDelivery() throws Exception {
        String secret = "tenant-hook-secret-" + unique("s");
        String tenant = tenant(unique("hook") + "@customer.test");
        String ep = endpoint("WEBHOOK", "/hooks/" + tenant, secret, tenant, null);
        // the secret never comes back
        String shown = as("viewer").get("/api/outbound/endpoints/" + ep).then().statusCode(200).extract().asString();
        assertTrue(!shown.contains(secret) && shown.contains("\"signed\":true"), shown);
        OutboundPeers.failHooks(2);
        String notice = notice(tenant, "TERMINATION");
        await("the webhook's attempt", () -> attempts(notice).stream().anyMatch(a -> "WEBHOOK".equals(a.get("channel"))));
        List<OutboundPeers.Received> got = receivedWith("endpoint:" + ep);
        assertEquals(3, got.size(), "two 503s, then taken: " + got);
        assertTrue(got.get(0).path().endsWith(" 503") && got.get(2).path().endsWith(" 200"), got.toString());
        assertEquals(1, got.stream().map(OutboundPeers.Received::idempotencyKey).distinct().count(), "one key on every try");
        OutboundPeers.Received taken = got.get(2);
        assertEquals("notice.created", taken.event());
        String t = taken.signature().split(",")[0].substring(2);
        assertEquals(HttpSender.signature(secret, Long.parseLong(t), taken.body()), taken.signature());
        JsonNode event = JSON.readTree(taken.body());
        assertEquals(notice, event.path("data").path("noticeId").asText());
        assertEquals("tenant:" + tenant, event.path("subject").asText());
        Map<String, Object> attempt = attempts(notice).stream().filter(a -> "WEBHOOK".equals(a.get("channel"))).findFirst().orElseThrow();
        assertEquals("DELIVERED", attempt.get("outcome"), "the tenant's own system took it");
        JsonNode proof = JSON.readTree((String) attempt.get("proof"));
        assertEquals(200, proof.path("status").asInt());
        assertEquals(HttpSender.sha256(taken.body().getBytes(StandardCharsets.UTF_8)), proof.path("bodySha256").asText());
        // another tenant's notice does not go to this tenant's endpoint
        String other = notice(tenant(unique("other") + "@customer.test"), "TERMINATION");
        await("the other notice's e-mail", () -> !attempts(other).isEmpty());
        relay.runOnce().await().atMost(java.time.Duration.ofSeconds(10));
        assertEquals(1, receivedWith("endpoint:" + ep).stream().filter(r -> r.path().endsWith(" 200")).count());
    }

    @Test
    void aWebhookThatNeverAnswersIsGivenUpVisiblyAfterTheConfiguredAttempts() {
        String tenant = tenant(unique("down") + "@customer.test");
        String ep = endpoint("WEBHOOK", "/down", "down-secret-0123456789", tenant, List.of("notice.created"));
        String notice = notice(tenant, "SUSPENSION");
        await("given up", () -> deliveries(notice).stream().anyMatch(d -> "FAILED".equals(d.get("status"))));
        Map<String, Object> d = deliveries(notice).stream().filter(x -> "FAILED".equals(x.get("status"))).findFirst().orElseThrow();
        assertEquals(4, ((Number) d.get("attempts")).intValue());
        assertTrue(((String) d.get("lastError")).contains("HTTP 500"), d.toString());
        assertEquals(4, receivedWith("endpoint:" + ep).size());
        assertTrue(attempts(notice).stream().noneMatch(a -> "WEBHOOK".equals(a.get("channel"))), "a failed webhook proves nothing");
        await("the give-up audited", () -> as("legal").queryParam("subject", "tenant:" + tenant).queryParam("action", "outbound.delivery-failed")
                .get("/api/audit").then().statusCode(200).extract().asString().contains("endpoint:" + ep));
    }

    @Test
    void aCrashedWebhookDeliveryIsResentWithTheSameIdempotencyKey() {
        String tenant = tenant(unique("hookcrash") + "@customer.test");
        String ep = endpoint("WEBHOOK", "/hooks/crash", "crash-secret-0123456789", tenant, List.of("notice.created"));
        relay.simulateCrashAfterSend(OutboxRelay.Channel.WEBHOOK, 1);
        String notice = notice(tenant, "ERASE");
        await("recorded", () -> attempts(notice).stream().anyMatch(a -> "WEBHOOK".equals(a.get("channel"))));
        List<OutboundPeers.Received> got = receivedWith("endpoint:" + ep);
        assertEquals(2, got.size());
        assertEquals(got.get(0).idempotencyKey(), got.get(1).idempotencyKey());
        assertEquals(got.get(0).body(), got.get(1).body(), "byte for byte the same event");
        assertEquals(1, got.stream().map(OutboundPeers.Received::idempotencyKey).distinct().count(), "the receiver keeps it once");
        assertEquals(1, attempts(notice).stream().filter(a -> "WEBHOOK".equals(a.get("channel"))).count());
    }

    @Test
    void ticketsFollowHoldsAndEraseDecisions() {
        String ep = endpoint("TICKET", "/tickets", null, null, null);
        String tenant = tenant(unique("tk") + "@customer.test");
        String hold = as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", tenant, "reason", "court order 12"))
                .post("/api/holds").then().statusCode(201).extract().path("id");
        assertNotNull(hold);
        String machine = operator().body(io.metalgate.testing.Api.enrollment(unique("tk-m"), "pw")).post("/api/machines").then()
                .statusCode(201).extract().path("id");
        operator().body(Map.of()).post("/api/machines/" + machine + "/actions/erase").then().statusCode(409);
        await("two tickets", () -> receivedWith("endpoint:" + ep).stream().filter(r -> r.path().endsWith(" 201")).count() >= 2);
        List<OutboundPeers.Received> got = receivedWith("endpoint:" + ep);
        assertTrue(got.stream().anyMatch(r -> r.body().contains("Hold placed: tenant:" + tenant) && r.body().contains("court order 12")),
                got.toString());
        assertTrue(got.stream().anyMatch(r -> r.body().contains("Erase blocked: machine:" + machine) && r.body().contains("MACHINE_STATE")),
                got.toString());
        List<Map<String, Object>> ds = as("viewer").queryParam("status", "SENT").get("/api/outbound/deliveries").then().statusCode(200)
                .extract().jsonPath().getList("");
        assertTrue(ds.stream().anyMatch(d -> ((String) d.get("idempotencyKey")).startsWith("endpoint:" + ep)
                && ((String) d.get("proof")).contains("\"ticketId\":\"T-")), ds.toString());
    }

    @Test
    void endpointsNeedAnAdminAndAValidUrl() {
        as("operator").body(Map.of("name", "x", "kind", "WEBHOOK", "url", "http://127.0.0.1/x")).post("/api/outbound/endpoints").then()
                .statusCode(403);
        admin().body(Map.of("name", unique("bad"), "kind", "WEBHOOK", "url", "ftp://x/y")).post("/api/outbound/endpoints").then()
                .statusCode(400).contentType("application/problem+json");
        admin().body(Map.of("name", unique("bad"), "kind", "WEBHOOK", "url", "http://127.0.0.1/x", "actions", List.of("machine.deleted")))
                .post("/api/outbound/endpoints").then().statusCode(400);
    }

    // ---------------------------------------------------------------------------------------------- the tenant's page

    @Inject
    NoticeLinks links;

    static String linkToken(String address) throws Exception {
        String body = mailTo(address).get(0).getContent().toString();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("https://metalgate\\.provider\\.test/notice/(\\S+)").matcher(body);
        assertTrue(m.find(), body);
        return m.group(1);
    }

    static io.restassured.response.Response choose(String token, String formToken, String choice) {
        var r = io.restassured.RestAssured.given().contentType("application/x-www-form-urlencoded");
        if (formToken != null) {
            r = r.formParam("token", formToken);
        }
        return r.formParam("choice", choice).post("/notice/" + token);
    }

    @Test
    void theTenantsPageAcknowledgesPreservesAndAsksForAnExportEachRecordedAndAudited() throws Exception {
        String address = unique("page") + "@customer.test";
        String name = unique("Acme <b>&");
        String tenant = admin().body(Map.of("name", name, "contactEmail", address)).post("/api/tenants").then().statusCode(201).extract()
                .path("id");
        String notice = notice(tenant, "TERMINATION");
        await("sent", () -> attempts(notice).size() == 1);
        String token = linkToken(address);
        String page = io.restassured.RestAssured.given().get("/notice/" + token).then().statusCode(200).contentType("text/html")
                .header("Cache-Control", "no-store").extract().asString();
        assertTrue(page.contains(name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")), "escaped: " + page);
        assertTrue(!page.contains("<b>"), page);
        assertTrue(page.contains("name=\"token\" value=\"" + token + "\""), "the token rides in the form");
        // a form without the token (a cross-site post that only knows the URL), a forged or expired token: nothing
        choose(token, null, "ACKNOWLEDGE").then().statusCode(404);
        String forged = token.substring(0, token.length() - 1) + (token.endsWith("0") ? "1" : "0");
        choose(forged, forged, "ACKNOWLEDGE").then().statusCode(404);
        io.restassured.RestAssured.given().get("/notice/" + forged).then().statusCode(404);
        String expired = links.token(java.util.UUID.fromString(notice), java.time.Instant.now().minusSeconds(1));
        io.restassured.RestAssured.given().get("/notice/" + expired).then().statusCode(404);
        choose(token, token, "DELETE_EVERYTHING").then().statusCode(400);
        assertEquals(1, attempts(notice).size(), "nothing recorded so far");

        assertTrue(choose(token, token, "ACKNOWLEDGE").then().statusCode(200).extract().asString().contains("acknowledgement"));
        Map<String, Object> ack = attempts(notice).stream().filter(a -> "LINK".equals(a.get("channel"))).findFirst().orElseThrow();
        assertEquals("ACKNOWLEDGED", ack.get("outcome"));
        assertEquals("tenant-link", ack.get("recordedBy"));
        assertTrue(((String) ack.get("proof")).contains("\"choice\":\"ACKNOWLEDGE\""), ack.toString());

        choose(token, token, "PRESERVE").then().statusCode(200);
        List<Map<String, Object>> holds = as("viewer").queryParam("tenantId", tenant).get("/api/holds").then().statusCode(200).extract()
                .jsonPath().getList("");
        assertTrue(holds.stream().anyMatch(h -> "PRESERVATION_REQUEST".equals(h.get("kind")) && Boolean.TRUE.equals(h.get("active"))
                && ((String) h.get("reason")).contains(notice)), holds.toString());

        choose(token, token, "EXPORT").then().statusCode(200);
        await("the export request audited", () -> as("legal").queryParam("subject", "tenant:" + tenant)
                .queryParam("action", "tenant.export-requested").get("/api/audit").then().statusCode(200).extract().asString()
                .contains(notice));
        assertEquals(4, attempts(notice).size(), "e-mail + three choices");
        // bounded: the profile allows 5 choices per link
        choose(token, token, "ACKNOWLEDGE").then().statusCode(200);
        choose(token, token, "ACKNOWLEDGE").then().statusCode(200);
        choose(token, token, "ACKNOWLEDGE").then().statusCode(429);
        assertEquals(6, attempts(notice).size());
        // but a request to preserve is never turned away: past the uses it records no attempt, and places the hold unless
        // the one the tenant asked for stands
        java.util.function.Supplier<List<String>> preservations = () -> as("viewer").queryParam("tenantId", tenant).get("/api/holds")
                .then().statusCode(200).extract().jsonPath().<Map<String, Object>>getList("").stream()
                .filter(h -> "PRESERVATION_REQUEST".equals(h.get("kind")) && Boolean.TRUE.equals(h.get("active")))
                .map(h -> (String) h.get("id")).toList();
        choose(token, token, "PRESERVE").then().statusCode(200);
        assertEquals(1, preservations.get().size(), "the standing hold is not placed twice");
        String held = preservations.get().get(0);
        as("legal").body(Map.of("reason", "reviewed with the tenant")).post("/api/holds/" + held + "/release").then().statusCode(200);
        operator().body(Map.of("reason", "agreed")).post("/api/holds/" + held + "/release").then().statusCode(200);
        assertEquals(List.of(), preservations.get());
        assertTrue(choose(token, token, "PRESERVE").then().statusCode(200).extract().asString().contains("preserve"));
        assertEquals(1, preservations.get().size(), "placed again past the link's uses");
        assertEquals(6, attempts(notice).size());
    }
}
