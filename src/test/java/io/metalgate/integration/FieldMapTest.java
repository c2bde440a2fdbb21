package io.metalgate.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A foreign payload (Stripe's event envelope, from its documentation's shape) mapped to a lease event, and refusals naming the field. */
class FieldMapTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FieldMap STRIPE = new FieldMap("/id", "/type",
            Map.of("invoice.payment_failed", "PAYMENT_OVERDUE", "invoice.paid", "PAYMENT_RECEIVED", "customer.subscription.deleted", "TERMINATED"),
            "/data/object/subscription", "/created", "/data/object");

    private static final String PAYMENT_FAILED = """
            {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "api_version": "2022-11-15", "created": 1686089970,
             "data": {"object": {"id": "in_1NG8Dt2eZvKYlo2C", "object": "invoice", "subscription": "sub_1NG8Ds2eZvKYlo2C",
                                 "amount_due": 2000, "currency": "eur"}},
             "livemode": false, "type": "invoice.payment_failed"}""";

    @Test
    void mapsAForeignEnvelopeToALeaseEventInTheIntegrationsName() throws Exception {
        var event = STRIPE.apply(JSON.readTree(PAYMENT_FAILED), "stripe");
        assertEquals("stripe", event.get("source").asText());
        assertEquals("evt_1NG8Du2eZvKYlo2CUI79vXWy", event.get("externalId").asText());
        assertEquals("PAYMENT_OVERDUE", event.get("type").asText());
        assertEquals("sub_1NG8Ds2eZvKYlo2C", event.get("leaseRef").asText());
        assertEquals("2023-06-06T22:19:30Z", event.get("occurredAt").asText());
        assertEquals("in_1NG8Dt2eZvKYlo2C", event.get("details").get("id").asText());
        // and what the intake parses is a valid LeaseEvent
        assertEquals(LeaseEvent.Type.PAYMENT_OVERDUE, JSON.findAndRegisterModules().treeToValue(event, LeaseEvent.class).type());
    }

    @Test
    void refusesWhatItCannotReadNamingTheField() throws Exception {
        var unknownType = assertThrows(ApiException.class, () -> STRIPE.apply(JSON.readTree(PAYMENT_FAILED.replace("invoice.payment_failed",
                "charge.refunded")), "stripe"));
        assertEquals("type", unknownType.problem().errors().get(0).field());
        var noLease = assertThrows(ApiException.class, () -> STRIPE.apply(JSON.readTree(PAYMENT_FAILED.replace("\"subscription\"", "\"sub\"")),
                "stripe"));
        assertEquals("leaseRef", noLease.problem().errors().get(0).field());
        var objectAsId = assertThrows(ApiException.class, () -> STRIPE.apply(JSON.readTree("{\"id\": {}, \"type\": \"invoice.paid\"}"), "s"));
        assertEquals("externalId", objectAsId.problem().errors().get(0).field());
        var badTime = assertThrows(ApiException.class, () -> STRIPE.apply(JSON.readTree(PAYMENT_FAILED.replace("1686089970", "true")), "s"));
        assertEquals("occurredAt", badTime.problem().errors().get(0).field());
    }

    @Test
    void aMapItselfIsCheckedWhenItIsGiven() {
        assertEquals("mapping.leaseRef", assertThrows(ApiException.class, () -> new FieldMap("/id", "/type", null, null, null, null)).problem()
                .errors().get(0).field());
        assertEquals("mapping.type", assertThrows(ApiException.class, () -> new FieldMap("/id", "type", null, "/l", null, null)).problem()
                .errors().get(0).field());
        assertEquals("mapping.types.x", assertThrows(ApiException.class, () -> new FieldMap("/id", "/t", Map.of("x", "EXPLODED"), "/l", null,
                null)).problem().errors().get(0).field());
    }

    static String zendesk(String fixture, Map<String, String> values) throws Exception {
        try (var in = FieldMapTest.class.getResourceAsStream("zendesk/" + fixture)) {
            String s = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            for (var e : values.entrySet()) {
                s = s.replace(e.getKey(), e.getValue());
            }
            return s;
        }
    }

    @Test
    void theZendeskPresetMapsCommentsToNotesAndTagsToHolds() throws Exception {
        var note = FieldMap.preset("zendesk").apply(JSON.readTree(zendesk("comment_added.json", Map.of("EVENT-ID", "e-1", "ORG-ID", "org-9",
                "LEASE-REF", "L-1", "COMMENT", "Thanks, noted."))), "zd");
        assertEquals("NOTE", note.get("action").asText());
        assertEquals("org-9", note.get("tenantRef").asText());
        assertEquals("L-1", note.get("leaseRef").asText());
        assertEquals("5", note.get("ticketRef").asText());
        assertEquals("Thanks, noted.", note.get("text").asText());
        assertEquals("e-1", note.get("externalId").asText());
        assertEquals("2099-07-04T05:33:18Z", note.get("occurredAt").asText());
        LeaseEvent parsed = JSON.findAndRegisterModules().treeToValue(note, LeaseEvent.class);
        assertEquals(LeaseEvent.Action.NOTE, parsed.action());
        assertTrue(parsed.crossFieldErrors().isEmpty());

        var hold = FieldMap.ZENDESK.apply(JSON.readTree(zendesk("tags_changed.json", Map.of("EVENT-ID", "e-2", "ORG-ID", "org-9",
                "LEASE-REF", "", "TAG", "preservation_request"))), "zd");
        assertEquals("HOLD", hold.get("action").asText());
        assertEquals("PRESERVATION_REQUEST", hold.get("holdKind").asText());
        assertFalse(hold.has("leaseRef"), "an empty external id names no lease");
        assertEquals("Request from our counsel", hold.get("text").asText());
        var dispute = FieldMap.ZENDESK.apply(JSON.readTree(zendesk("tags_changed.json", Map.of("EVENT-ID", "e-3", "ORG-ID", "org-9",
                "LEASE-REF", "L-1", "TAG", "dispute"))), "zd");
        assertEquals("DISPUTE", dispute.get("holdKind").asText());
        // another tag is a note (kept), not a hold
        var other = FieldMap.ZENDESK.apply(JSON.readTree(zendesk("tags_changed.json", Map.of("EVENT-ID", "e-4", "ORG-ID", "org-9",
                "LEASE-REF", "L-1", "TAG", "vip"))), "zd");
        assertEquals("NOTE", other.get("action").asText());
        // neither organization nor external id: refused naming the field
        var nowhere = assertThrows(ApiException.class, () -> FieldMap.ZENDESK.apply(JSON.readTree(zendesk("tags_changed.json",
                Map.of("EVENT-ID", "e-5", "\"ORG-ID\"", "null", "LEASE-REF", "", "TAG", "dispute"))), "zd"));
        assertEquals("tenantRef", nowhere.problem().errors().get(0).field());
        assertEquals("preset", assertThrows(ApiException.class, () -> FieldMap.preset("helpdesk-9000")).problem().errors().get(0).field());
    }

    @Test
    void aGenericMapsActionsPickTheSafestMeaning() throws Exception {
        FieldMap map = new FieldMap("/id", "/event", Map.of("contract.ended", "TERMINATED"), "/contract", null, "/ticket", List.of("/labels",
                "/event"), Map.of("legal", "PRESERVATION_REQUEST", "billing-dispute", "DISPUTE", "reply", "NOTE"), "/customer", "/ticket/key",
                List.of("/ticket/text"));
        String base = "{\"id\":\"x1\",\"event\":\"EV\",\"labels\":LABELS,\"contract\":\"C-1\",\"customer\":\"cust-1\","
                + "\"ticket\":{\"key\":\"SD-7\",\"text\":\"hello\"}}";
        var both = map.apply(JSON.readTree(base.replace("EV", "reply").replace("LABELS", "[\"billing-dispute\",\"legal\"]")), "sd");
        assertEquals("PRESERVATION_REQUEST", both.get("holdKind").asText(), "a preservation request beats a dispute beats a note");
        assertEquals("SD-7", both.get("ticketRef").asText());
        var reply = map.apply(JSON.readTree(base.replace("EV", "reply").replace("LABELS", "[]")), "sd");
        assertEquals("NOTE", reply.get("action").asText());
        assertEquals("hello", reply.get("text").asText());
        var lease = map.apply(JSON.readTree(base.replace("EV", "contract.ended").replace("LABELS", "\"none\"")), "sd");
        assertEquals("TERMINATED", lease.get("type").asText());
        assertFalse(lease.has("action"), "a lease event keeps its stored shape");
        assertEquals("mapping.actions.x", assertThrows(ApiException.class, () -> new FieldMap("/id", "/t", null, "/l", null, null, null,
                Map.of("x", "EXPLODE"), null, null, null)).problem().errors().get(0).field());
        // a map of tenants only needs no lease pointer
        new FieldMap("/id", "/t", null, null, null, null, null, Map.of("x", "NOTE"), "/org", null, null);
    }
}
