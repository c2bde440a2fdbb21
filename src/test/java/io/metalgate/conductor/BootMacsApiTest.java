package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Api;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Boot MACs decide which machine a booting MAC is, and so which one gets an erase agent: an operator names them for a
 * BMC that reports none; never a MAC another machine has, never while the machine is ERASING, only as an operator,
 * audited; inspection's own MACs stay; and an ERASING machine's inventory is not inspected anew.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BootMacsApiTest {

    @Test
    void anOperatorNamesBootMacsThatAreNoOtherMachinesAndNotWhileErasing() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 2, "bootmac"));
            String a = fleet.machines().get(0);
            String b = fleet.machines().get(1);
            String found = bmcs.bmc(0).mac(1); // what inspection found on a
            String mac = "52:54:00:aa:bb:" + String.format("%02x", (int) (System.nanoTime() & 0xff));

            operator().body(Map.of("macs", List.of(mac.toUpperCase().replace(':', '-')))).put("/api/machines/" + a + "/boot-macs").then()
                    .statusCode(200).body("find { it.mac == '" + mac + "' }.source", equalTo("operator"))
                    .body("find { it.mac == '" + found + "' }.source", equalTo("inspection"));
            Lifecycle.awaitAudit("machine:" + a, "machine.boot-macs-set", 1);
            // a's MAC, whichever way it came, is never b's
            operator().body(Map.of("macs", List.of(mac))).put("/api/machines/" + b + "/boot-macs").then().statusCode(409)
                    .body("detail", containsString(a));
            operator().body(Map.of("macs", List.of(found))).put("/api/machines/" + b + "/boot-macs").then().statusCode(409);
            operator().body(Map.of("macs", List.of("not-a-mac"))).put("/api/machines/" + b + "/boot-macs").then().statusCode(400);
            for (String role : List.of("viewer", "billing", "legal", "approver")) {
                Api.as(role).body(Map.of("macs", List.of(mac))).put("/api/machines/" + b + "/boot-macs").then().statusCode(403);
            }
            // naming again replaces the operator's, never inspection's
            operator().body(Map.of("macs", List.of())).put("/api/machines/" + a + "/boot-macs").then().statusCode(200)
                    .body("mac", not(hasItem(mac))).body("mac", hasItem(found));

            // while ERASING a token may be out: the MACs stay as they are
            Lifecycle.allowedErase(a);
            operator().body(Map.of("macs", List.of(mac))).put("/api/machines/" + a + "/boot-macs").then().statusCode(409)
                    .body("detail", containsString("ERASING"));
            Api.as("viewer").get("/api/machines/" + a + "/boot-macs").then().statusCode(200).body("mac", hasItem(found));
            // nor does its inventory (what the certificate must cover) change under the erase
            operator().post("/api/machines/" + a + "/inventory").then().statusCode(409).body("detail", containsString("ERASING"));
        }
    }
}
