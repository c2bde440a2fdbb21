package io.metalgate.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
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
}
