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
}
