package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The BMC operations on the API (issue 12, point 6): power on, graceful off, cycle and reset; the boot override
 * with its entity tag and If-Match; virtual media; each through the gate and audited as an intent, and nothing
 * sent to the BMC when the gate refuses.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BmcOperationsApiTest {

    @Test
    void anAvailableMachineIsPoweredBootedAndGivenMediaThroughTheConductor() {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            String m = Lifecycle.available(bmcs, 1, "ops").get(0);
            var bmc = bmcs.bmc(0);

            operator().body(Map.of("action", "graceful_off")).post("/api/machines/" + m + "/power").then().statusCode(200)
                    .body("decision.allowed", equalTo(true));
            assertEquals("Off", bmc.powerState());
            operator().body(Map.of("action", "on")).post("/api/machines/" + m + "/power").then().statusCode(200);
            assertEquals("On", bmc.powerState());

            // the boot override, read with its tag, set with If-Match; the next restart boots from it
            String etag = operator().get("/api/machines/" + m + "/boot-device").then().statusCode(200).body("device", equalTo("NONE"))
                    .extract().header("ETag");
            operator().header("If-Match", etag).body(Map.of("device", "PXE")).put("/api/machines/" + m + "/boot-device").then()
                    .statusCode(200).body("decision.action", equalTo("BOOT_EXTERNAL"));
            operator().get("/api/machines/" + m + "/boot-device").then().body("device", equalTo("PXE")).body("persistent", equalTo(false))
                    .body("mode", equalTo("UEFI")).body("etag", not(equalTo(etag)));
            // a second change made on what was read before the first: 412, and the BMC keeps PXE
            operator().header("If-Match", etag).body(Map.of("device", "CD")).put("/api/machines/" + m + "/boot-device").then()
                    .statusCode(412).body("detail", containsString("PXE"));
            operator().get("/api/machines/" + m + "/boot-device").then().body("device", equalTo("PXE"));
            int boots = bmc.boots();
            operator().body(Map.of("action", "cycle")).post("/api/machines/" + m + "/power").then().statusCode(200)
                    .body("decision.action", equalTo("POWER_CYCLE"));
            assertEquals(boots + 1, bmc.boots());
            assertEquals("Pxe", bmc.lastBootTarget());
            operator().body(Map.of("action", "reset")).post("/api/machines/" + m + "/power").then().statusCode(200);

            // virtual media: http(s) without credentials only
            operator().body(Map.of("imageUrl", "http://images.example/rescue.iso")).post("/api/machines/" + m + "/virtual-media").then()
                    .statusCode(200);
            assertEquals("http://images.example/rescue.iso", bmc.mediaImage());
            operator().body(Map.of("imageUrl", "http://user:secret@images.example/x.iso")).post("/api/machines/" + m + "/virtual-media")
                    .then().statusCode(400).body("errors[0].field", equalTo("imageUrl")).body(not(containsString("secret")));
            operator().body(Map.of("imageUrl", "file:///etc/shadow")).post("/api/machines/" + m + "/virtual-media").then().statusCode(400);
            operator().delete("/api/machines/" + m + "/virtual-media").then().statusCode(200).body("decision.action", equalTo("BOOT_LOCAL"));
            assertNull(bmc.mediaImage());

            List<String> audited = admin().queryParam("subject", "machine:" + m).queryParam("limit", 200).get("/api/audit").then().extract()
                    .jsonPath().getList("items.action");
            for (String a : List.of("bmc.intent", "bmc.powered-off", "bmc.powered-on", "bmc.boot-set", "bmc.boot-set-failed",
                    "bmc.power-cycled", "bmc.media-inserted", "bmc.media-ejected")) {
                org.hamcrest.MatcherAssert.assertThat(audited, hasItem(a));
            }

            // a viewer neither reads (that drives the BMC too) nor changes; bad requests are named
            as("viewer").get("/api/machines/" + m + "/boot-device").then().statusCode(403);
            operator().body(Map.of("action", "")).post("/api/machines/" + m + "/power").then().statusCode(400);
            operator().body(Map.of("imageUrl", "https://s3.example/x.iso?X-Amz-Signature=abc")).post("/api/machines/" + m + "/virtual-media")
                    .then().statusCode(400).body(not(containsString("abc")));
            as("viewer").body(Map.of("action", "off")).post("/api/machines/" + m + "/power").then().statusCode(403);
            as("viewer").body(Map.of("device", "PXE")).put("/api/machines/" + m + "/boot-device").then().statusCode(403);
            operator().body(Map.of("action", "explode")).post("/api/machines/" + m + "/power").then().statusCode(400);
            operator().post("/api/machines/" + m + "/actions/boot_external").then().statusCode(400);
        }
    }

    @Test
    void aTenantsMachineIsNotBootedFromAnotherMediumOrCycledWithoutItsRequestAndNeverUnderAHold() {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            String tenant = operator().body(Map.of("name", unique("ops-t"))).post("/api/tenants").then().extract().path("id");
            String m = Lifecycle.available(bmcs, 1, "opst").get(0);
            Lifecycle.activeLease(tenant, List.of(m));
            var bmc = bmcs.bmc(0);
            int requests = bmc.requests();

            operator().body(Map.of("device", "PXE")).put("/api/machines/" + m + "/boot-device").then().statusCode(409)
                    .body("errors.field", hasItem("TENANT_DATA"));
            operator().body(Map.of("imageUrl", "https://images.example/wipe.iso")).post("/api/machines/" + m + "/virtual-media").then()
                    .statusCode(409).body("errors.field", hasItem("TENANT_DATA"));
            operator().body(Map.of("action", "cycle")).post("/api/machines/" + m + "/power").then().statusCode(409)
                    .body("errors.field", hasItem("LEASE_ACTIVE"));
            assertEquals(requests, bmc.requests(), "nothing was sent to the BMC");
            // even its own disk: a tenant's running machine's boot order is the tenant's (a legacy override strands a UEFI system)
            operator().body(Map.of("device", "DISK", "mode", "LEGACY", "persistent", true)).put("/api/machines/" + m + "/boot-device").then()
                    .statusCode(409).body("errors.field", hasItem("LEASE_ACTIVE"));
            // a standing network or CD boot is refused outright
            as("approver").body(Map.of("device", "PXE", "persistent", true, "emergencyReason", "x")).put("/api/machines/" + m + "/boot-device")
                    .then().statusCode(400).body("errors[0].field", equalTo("persistent"));

            // an approver alone may not boot another medium on a tenant's data, emergency or not: one person with a wiping
            // medium would be an erase without the erase's rules
            as("approver").body(Map.of("device", "CD", "emergencyReason", "tenant's OS is down, rescue system")).put("/api/machines/" + m
                    + "/boot-device").then().statusCode(409).body("errors.field", hasItem("SELF_APPROVAL"));
            as("approver").body(Map.of("imageUrl", "https://images.example/wipe.iso", "emergencyReason", "rescue"))
                    .post("/api/machines/" + m + "/virtual-media").then().statusCode(409).body("errors.field", hasItem("SELF_APPROVAL"));
            assertEquals(requests, bmc.requests(), "nothing was sent to the BMC");
            // a rescue asked by one person (an action request) and carried out by an approver who is not them, with a reason
            String asked = operator().body(Map.of("action", "BOOT_EXTERNAL", "reason", "tenant's OS is down, ticket 881"))
                    .post("/api/machines/" + m + "/action-requests").then().statusCode(201).extract().path("id");
            // not by the person who asked it
            operator().body(Map.of("device", "CD", "requestId", asked, "emergencyReason", "rescue")).put("/api/machines/" + m
                    + "/boot-device").then().statusCode(409);
            as("approver").body(Map.of("device", "CD", "requestId", asked, "emergencyReason", "tenant's OS is down, rescue system"))
                    .put("/api/machines/" + m + "/boot-device").then().statusCode(200);
            operator().get("/api/machines/" + m + "/boot-device").then().body("device", equalTo("CD"));
            // the request is spent: a second medium needs a second request
            as("approver").body(Map.of("device", "PXE", "requestId", asked, "emergencyReason", "again")).put("/api/machines/" + m
                    + "/boot-device").then().statusCode(409);
            // but not under a hold: booting another medium could overwrite what the hold keeps
            as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", tenant, "reason", "litigation")).post("/api/holds").then().statusCode(201);
            as("approver").body(Map.of("imageUrl", "https://images.example/rescue.iso", "emergencyReason", "rescue"))
                    .post("/api/machines/" + m + "/virtual-media").then().statusCode(409).body("errors.field", hasItem("HOLD"));
            assertNull(bmc.mediaImage());
        }
    }

    @Test
    void anIpmiMachineIsBootedFromTheNetworkAndCycled() throws Exception {
        int port;
        try (var probe = new java.net.DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(port).at(io.metalgate.testing.RedfishMocks.freshAddress()))) {
            sim.bmc(0).setPowerOn(true);
            String m = operator().body(Map.of("name", unique("ops-ipmi"), "bmc", Map.of("protocol", "IPMI", "host", sim.host(0), "port", port,
                    "username", "admin", "password", "ipmi-secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
            Lifecycle.awaitState(m, "MANAGEABLE");
            String etag = operator().get("/api/machines/" + m + "/boot-device").then().statusCode(200).extract().header("ETag");
            operator().header("If-Match", etag).body(Map.of("device", "PXE", "mode", "LEGACY")).put("/api/machines/" + m + "/boot-device")
                    .then().statusCode(200);
            operator().get("/api/machines/" + m + "/boot-device").then().body("device", equalTo("PXE")).body("mode", equalTo("LEGACY"));
            int changes = sim.bmc(0).powerChanges();
            operator().body(Map.of("action", "cycle")).post("/api/machines/" + m + "/power").then().statusCode(200);
            org.junit.jupiter.api.Assertions.assertTrue(sim.bmc(0).powerChanges() > changes, "Chassis Control power cycle");
        }
    }
}
