package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Power sync and inspection through the API, against redfish-mocks BMCs over HTTPS. */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class PowerSyncApiTest {

    private final io.metalgate.testing.RedfishMocks.Fleet mocks = new io.metalgate.testing.RedfishMocks.Fleet();

    @AfterEach
    void stop() {
        mocks.close();
    }

    private RedfishMock mock(Profile p) {
        return mocks.start(p);
    }

    private static String enrol(RedfishMock m) {
        return io.metalgate.testing.RedfishMocks.enrol(m, "ps");
    }


    @Test
    void aSweepStoresEachPowerStatePinsCertificatesAndAuditsDriftOnce() {
        RedfishMock on = mock(Profile.IDRAC);
        RedfishMock off = mock(Profile.ILO);
        String retained = enrol(on);
        String idle = enrol(off);
        // the retained machine's data is held (through its lifecycle: leased, deployed, lease terminated,
        // powered off by the conductor): it must be off, and someone switched it on
        io.metalgate.testing.Lifecycle.awaitState(retained, "MANAGEABLE");
        operator().post("/api/machines/" + retained + "/inventory").then().statusCode(200);
        String tenant = operator().body(java.util.Map.of("name", io.metalgate.testing.Api.unique("ps"))).post("/api/tenants").then()
                .extract().path("id");
        String lease = io.metalgate.testing.Lifecycle.activeLease(tenant, java.util.List.of(retained));
        io.metalgate.testing.Api.as("billing").body(java.util.Map.of("event", "TERMINATED")).post("/api/leases/" + lease + "/events").then()
                .statusCode(200);
        io.metalgate.testing.Lifecycle.awaitState(retained, "RETAINED");
        on.bmc(0).setPowerState("On");

        // a BMC that answers garbage is marked on its machine; the sweep goes on for the others
        RedfishMock broken = mock(Profile.GENERIC);
        String garbled = enrol(broken);
        broken.bmc(0).faults.malformedJson = true;

        operator().queryParam("machine", retained).queryParam("machine", idle).queryParam("machine", garbled).post("/api/power-sync").then()
                .statusCode(200).body("machines", equalTo(3)).body("on", equalTo(1)).body("off", equalTo(1))
                .body("failures.MALFORMED_RESPONSE", equalTo(1));
        operator().get("/api/machines/" + garbled).then().body("power.state", org.hamcrest.Matchers.nullValue())
                .body("power.error", containsString("not JSON"));
        operator().get("/api/machines/" + retained).then().body("power.state", equalTo("ON")).body("power.drift", equalTo(true))
                .body("bmc.tlsFingerprint", equalTo(on.certificateSha256()));
        operator().get("/api/machines/" + idle).then().body("power.state", equalTo("OFF")).body("power.drift", equalTo(false));

        // a second sweep: still drifting, but no second alarm
        operator().queryParam("machine", retained).post("/api/power-sync").then().statusCode(200);
        admin().queryParam("subject", "machine:" + retained).queryParam("action", "machine.power-drift").get("/api/audit").then()
                .body("items.size()", equalTo(1)).body("items[0].payload.observed", equalTo("ON"));
        admin().queryParam("subject", "machine:" + retained).queryParam("action", "bmc.certificate-pinned").get("/api/audit").then()
                .body("items.payload.sha256", contains(on.certificateSha256()));
    }

    @Test
    void aChangedCertificateIsRecordedAsTheMachinesErrorAndAuditedOnce() {
        RedfishMock first = mock(Profile.GENERIC);
        String machine = enrol(first);
        io.metalgate.testing.Lifecycle.awaitState(machine, "MANAGEABLE");
        operator().queryParam("machine", machine).post("/api/power-sync").then().body("off", equalTo(1));
        String host = first.options().bindHost();
        int port = first.port();
        first.close();
        mocks.remove(first);
        RedfishMock impostor = RedfishMock.start(RedfishMock.Options.one(Profile.GENERIC).withBind(host).withPort(port));
        mocks.add(impostor);

        operator().queryParam("machine", machine).post("/api/power-sync").then().body("failures.CERTIFICATE_CHANGED", equalTo(1));
        operator().queryParam("machine", machine).post("/api/power-sync").then().body("failures.CERTIFICATE_CHANGED", equalTo(1));
        operator().get("/api/machines/" + machine).then().body("power.state", org.hamcrest.Matchers.nullValue())
                .body("power.error", containsString("not the pinned " + first.certificateSha256()))
                .body("bmc.tlsFingerprint", equalTo(first.certificateSha256()));
        admin().queryParam("subject", "machine:" + machine).queryParam("action", "bmc.certificate-changed").get("/api/audit").then()
                .body("items.size()", equalTo(1));
        assertEquals(0, impostor.bmc(0).requests(), "nothing sent to the impostor");
        // inspecting through it is refused the same way, as a precise problem
        operator().post("/api/machines/" + machine + "/inventory").then().log().ifValidationFails().statusCode(502)
                .body("type", equalTo("urn:metalgate:problem:bmc-certificate-changed"));
    }

    @Test
    void inspectionStoresTheInventoryAndAuditsTheDisks() {
        RedfishMock m = mock(Profile.SUPERMICRO);
        String machine = enrol(m);
        as("viewer").get("/api/machines/" + machine + "/inventory").then().statusCode(404);
        io.metalgate.testing.Lifecycle.awaitState(machine, "MANAGEABLE"); // inspection follows verification
        operator().post("/api/machines/" + machine + "/inventory").then().statusCode(200)
                .body("disks.serialNumber", contains(m.bmc(0).driveSerial(1), m.bmc(0).driveSerial(2)));
        as("viewer").get("/api/machines/" + machine + "/inventory").then().statusCode(200).body("nics.mac", contains(m.bmc(0).mac(1),
                m.bmc(0).mac(2)));
        operator().get("/api/machines/" + machine).then().body("inspectedAt", org.hamcrest.Matchers.notNullValue())
                .body("state", equalTo("AVAILABLE"));
        admin().queryParam("subject", "machine:" + machine).queryParam("action", "machine.inspected").get("/api/audit").then()
                .body("items[0].payload.disks.serialNumber", contains(m.bmc(0).driveSerial(1), m.bmc(0).driveSerial(2)));
        as("viewer").post("/api/machines/" + machine + "/inventory").then().statusCode(403);
    }

    /** A BMC that lists its disks without serial numbers: no erase of them could be shown, so the machine stays out of the pool. */
    @Test
    void aMachineWhoseDisksHaveNoSerialNumbersFailsInspection() {
        RedfishMock m = mock(Profile.GENERIC);
        m.bmc(0).faults.driveSerialsMissing = true;
        String machine = enrol(m);
        io.metalgate.testing.Lifecycle.awaitState(machine, "MANAGEABLE");
        operator().post("/api/machines/" + machine + "/inventory").then().statusCode(200);
        io.metalgate.testing.Lifecycle.awaitState(machine, "INSPECT_FAILED");
        as("viewer").get("/api/machines/" + machine + "/inventory").then().statusCode(200).body("disks.size()", equalTo(2));
        org.junit.jupiter.api.Assertions.assertTrue(admin().queryParam("subject", "machine:" + machine).get("/api/audit").then()
                .statusCode(200).extract().asString().contains("without a serial number"), "the step's reason is audited");
    }
}
