package io.metalgate.boot;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The HTTP side of network boot: the iPXE script chosen by MAC and lifecycle state (local disk for anything
 * but ERASING and for MACs of no machine, which are recorded for discovery), the erase agent's one-time token
 * (stored hashed, audited without it), and the agent's files served with range requests.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BootApiTest {

    @Test
    void aMachineBootsItsDiskUnlessErasingAndUnknownMacsAreRecorded() {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            String m = Lifecycle.available(bmcs, 1, "boot").get(0);
            String mac = bmcs.bmc(0).mac(1);
            given().queryParam("mac", mac.toUpperCase()).get("/boot/ipxe").then().statusCode(200).body(containsString("#!ipxe"))
                    .body(containsString("is AVAILABLE")).body(containsString("exit")).body(not(containsString("kernel")));

            String unknown = String.format("02:00:5e:%02x:%02x:%02x", (int) (Math.random() * 256), (int) (Math.random() * 256),
                    (int) (Math.random() * 256));
            given().queryParam("mac", unknown).get("/boot/ipxe").then().statusCode(200).body(containsString("no machine"))
                    .body(containsString("exit"));
            given().queryParam("mac", unknown).get("/boot/ipxe").then().statusCode(200);
            as("viewer").get("/api/boot/unknown-macs").then().statusCode(200).body("mac", hasItem(unknown))
                    .body("find { it.mac == '" + unknown + "' }.requests", equalTo(2));
            given().get("/api/boot/unknown-macs").then().statusCode(401);
            given().queryParam("mac", "${net0/mac}").get("/boot/ipxe").then().statusCode(200).body(containsString("no MAC given"));

            // ERASING (set here as the fact it is; the erase flow's tests get there through the gate): the erase agent
            PostgresTestResource.sql("UPDATE machine SET lifecycle_state = 'ERASING' WHERE id = ?::uuid", m);
            String script = given().queryParam("mac", mac).get("/boot/ipxe").then().statusCode(200).body(containsString("kernel "))
                    .body(containsString("/boot/agent/vmlinuz")).body(containsString("initrd --name initrd.img ")).extract().asString();
            Matcher t = Pattern.compile("metalgate\\.token=([A-Za-z0-9_-]{43})").matcher(script);
            org.junit.jupiter.api.Assertions.assertTrue(t.find(), script);
            String token = t.group(1);
            assertEquals("1", PostgresTestResource.sqlValue("SELECT count(*)::text FROM boot_token WHERE machine_id = ?::uuid AND token_sha256 = '"
                    + BootService.sha256(token) + "' AND expires_at > now() AND used_at IS NULL", m));
            Lifecycle.awaitAudit("machine:" + m, "boot.agent-issued", 1);
            admin().queryParam("subject", "machine:" + m).queryParam("action", "boot.agent-issued").get("/api/audit").then()
                    .body(not(containsString(token)));
        }
    }

    @Test
    void theAgentsFilesAreServedWithRanges() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "agent"));
        byte[] initrd = new byte[200_000];
        new java.util.Random(3).nextBytes(initrd);
        Files.write(dir.resolve("initrd.img"), initrd);
        Files.writeString(Path.of("target", "not-served.txt"), "outside");
        byte[] all = given().get("/boot/agent/initrd.img").then().statusCode(200).extract().asByteArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(initrd, all);
        byte[] part = given().header("Range", "bytes=1000-1999").get("/boot/agent/initrd.img").then().statusCode(206)
                .header("Content-Range", "bytes 1000-1999/200000").extract().asByteArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOfRange(initrd, 1000, 2000), part);
        given().urlEncodingEnabled(false).get("/boot/agent/..%2Fnot-served.txt").then().statusCode(org.hamcrest.Matchers.not(200));
        given().get("/boot/agent/").then().statusCode(org.hamcrest.Matchers.not(200));
    }
}
