package io.metalgate.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.metalgate.machine.BmcProtocol;
import org.junit.jupiter.api.Test;

/** The API's JSON rules on enums: a name in any case, nothing but a name. */
class StrictJsonTest {

    record Body(BmcProtocol protocol) {
    }

    record When(java.time.Instant at) {
    }

    private static ObjectMapper mapper() {
        ObjectMapper m = new ObjectMapper();
        new StrictJson().customize(m);
        return m;
    }

    @Test
    void anEnumIsItsNameInAnyCaseAndNothingElse() throws Exception {
        ObjectMapper m = mapper();
        for (String given : new String[] { "REDFISH", "redfish", "Redfish", "rEdFiSh" }) {
            assertEquals(BmcProtocol.REDFISH, m.readValue("{\"protocol\":\"" + given + "\"}", Body.class).protocol(), given);
        }
        assertThrows(InvalidFormatException.class, () -> m.readValue("{\"protocol\":\"redfis\"}", Body.class));
        assertThrows(MismatchedInputException.class, () -> m.readValue("{\"protocol\":0}", Body.class));
    }

    @Test
    void anInstantIsOneTheDatabaseKeepsAsSent() throws Exception {
        ObjectMapper m = new ObjectMapper();
        m.registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule());
        new StrictJson().customize(m); // after the time module, as in the application (its priority: last)
        assertEquals(java.time.Instant.parse("2026-12-06T10:00:00Z"), m.readValue("{\"at\":\"2026-12-06T10:00:00Z\"}", When.class).at());
        assertEquals(java.time.Instant.parse("9999-12-31T00:00:00Z"), m.readValue("{\"at\":\"9999-12-31T00:00:00Z\"}", When.class).at());
        // PostgreSQL would keep these as infinity, or refuse them
        for (String far : new String[] { "+295000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z" }) {
            assertThrows(com.fasterxml.jackson.databind.JsonMappingException.class, () -> m.readValue("{\"at\":\"" + far + "\"}", When.class),
                    far);
        }
    }
}
