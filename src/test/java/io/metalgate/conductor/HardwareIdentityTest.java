package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One server is one machine, whichever way its BMC is named: a single-system BMC enrolled once without and once
 * with its system's id is one server (the system's UUID, told at verification), so the second enrolment fails
 * verification and can never be driven, leased or erased as a machine of its own.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class HardwareIdentityTest {

    @Test
    void theSingleSystemOfAnEnrolledBmcNamedByItsIdIsTheSameServer() {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            String first = Lifecycle.enrol(bmcs, 0, "hw");
            Lifecycle.awaitState(first, "MANAGEABLE");
            String systemId = operator().body(Map.of("protocol", "REDFISH", "host", bmcs.addressOf(0), "port", bmcs.port(), "username", "admin",
                    "password", "redfish-secret")).post("/api/bmc-discovery").then().statusCode(200).extract().path("systems[0].systemId");
            String second = operator().body(Map.of("name", unique("hw-by-id"), "bmc", Map.of("protocol", "REDFISH", "host", bmcs.addressOf(0),
                    "port", bmcs.port(), "username", "admin", "password", "redfish-secret", "options", Map.of("systemId", systemId))))
                    .post("/api/machines").then().statusCode(201).extract().path("id");
            Lifecycle.awaitState(second, "VERIFY_FAILED");
            Lifecycle.awaitAudit("machine:" + second, "bmc.twin-refused", 1);
            // and it is not driven: the gate refuses what an unverified BMC would do
            operator().body(Map.of("action", "off")).post("/api/machines/" + second + "/power").then().statusCode(409)
                    .body("errors[0].field", equalTo("MACHINE_STATE"));
            org.junit.jupiter.api.Assertions.assertEquals("On", bmcs.bmc(0).powerState());
        }
    }
}
