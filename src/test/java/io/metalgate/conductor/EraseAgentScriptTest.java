package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The real erase agent (iso-builder/agent/erase-agent.sh, run by busybox sh) against the appliance, erasing real block
 * devices (loop devices over files filled with a pattern; no VM here — the QEMU end-to-end is still to come): it gets
 * its task, asks for each disk again, gets the technique (an overwrite: loop devices report nothing stronger, and this
 * test's policy accepts CLEAR), erases, reads back, reports; the appliance issues the certificate; the files on the
 * host hold no trace of the pattern.
 */
@QuarkusTest
@TestProfile(EraseAgentScriptTest.ClearPolicy.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class EraseAgentScriptTest {

    public static class ClearPolicy implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("metalgate.erase.minimum-method", "CLEAR", "metalgate.erase.verify-sample-blocks", "32");
        }
    }

    @Test
    void theAgentErasesEveryDiskAndTheApplianceCertifiesIt() throws Exception {
        List<String> loops = new ArrayList<>();
        List<Path> made = new ArrayList<>();
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 1, "agent-sh"));
            String m = fleet.machines().get(0);
            Lifecycle.allowedErase(m);
            String script = given().queryParam("mac", bmcs.bmc(0).mac(1)).get("/boot/ipxe").then().extract().asString();
            Matcher url = Pattern.compile("metalgate\\.url=(\\S+)").matcher(script);
            Matcher token = Pattern.compile("metalgate\\.token=(\\S+)").matcher(script);
            assertTrue(url.find() && token.find(), script);

            // one loop device per disk of the inventory, filled with a pattern
            List<String> serials = operator().get("/api/machines/" + m + "/inventory").then().extract().jsonPath().getList("disks.serialNumber");
            Path dir = Files.createTempDirectory("agent-disks");
            made.add(dir);
            StringBuilder map = new StringBuilder();
            List<Path> images = new ArrayList<>();
            byte[] pattern = new byte[4 << 20];
            for (int i = 0; i < pattern.length; i++) {
                pattern[i] = (byte) (0xA5 ^ i);
            }
            for (String serial : serials) {
                Path img = dir.resolve(serial + ".img");
                Files.write(img, pattern);
                images.add(img);
                String loop = run(List.of("losetup", "-f", "--show", img.toString())).strip();
                assertTrue(loop.startsWith("/dev/loop"), "losetup (needs root, as the README's test command runs): " + loop);
                loops.add(loop);
                map.append(serial).append('=').append(loop).append(' ');
            }
            Path cmdline = dir.resolve("cmdline");
            Files.writeString(cmdline, "console=ttyS0 metalgate.url=" + url.group(1) + " metalgate.token=" + token.group(1) + "\n");
            ProcessBuilder pb = new ProcessBuilder("busybox", "sh", Path.of("iso-builder/agent/erase-agent.sh").toAbsolutePath().toString())
                    .redirectErrorStream(true);
            pb.environment().put("METALGATE_CMDLINE", cmdline.toString());
            pb.environment().put("METALGATE_DISKS", map.toString().strip());
            pb.environment().put("METALGATE_NO_POWEROFF", "1");
            pb.environment().put("METALGATE_SYSTEM_UUID", bmcs.bmc(0).systemUuid().toString());
            Process run = pb.start();
            String out = new String(run.getInputStream().readAllBytes());
            assertTrue(run.waitFor(120, TimeUnit.SECONDS), out);
            assertEquals(0, run.exitValue(), out);
            assertTrue(out.contains("\"state\":\"ERASED\""), out);

            operator().get("/api/machines/" + m).then().body("state", equalTo("ERASED"));
            operator().get("/api/machines/" + m + "/erase-certificates").then().statusCode(200).body("size()", equalTo(1))
                    .body("[0].body.disks.size()", equalTo(serials.size())).body("[0].body.disks[0].techniqueId", equalTo("OVERWRITE"))
                    .body("[0].body.disks[0].method", equalTo("CLEAR")).body("[0].body.disks[0].verification.passed", equalTo(true));
            for (Path img : images) {
                byte[] after = Files.readAllBytes(img);
                for (int i = 0; i < after.length; i++) {
                    if (after[i] != 0) {
                        throw new AssertionError(img + " still holds data at byte " + i);
                    }
                }
            }
        } finally {
            for (String loop : loops) {
                run(List.of("losetup", "-d", loop));
            }
            for (Path dir : made) { // the disk images, gone with the test
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }
}
