package io.metalgate.appliance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.ColorScheme;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, {@code ./metalgate run --demo}, as a newcomer runs it: the packaged appliance with its
 * embedded PostgreSQL, the Redfish emulator and the IPMI simulator as child processes, and the seeded lab — 48
 * machines of 4 tenants in varied states, a hold, a bounced and a delivered notice, an erase awaiting approval and a
 * bulk erase the gate blocks. A browser signs in as the demo's operator and powers off a machine, and the emulated
 * BMC behind it really goes off. Screenshots of the lab go to target/screenshots/demo-*.png.
 */
class DemoLabIT {

    record Lab(Process process, List<String> output, int port, int redfishPort) {
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Lab start(Path dataDir) throws Exception {
        int port = freePort();
        int redfish = freePort();
        int ipmi = freePort();
        ProcessBuilder pb = new ProcessBuilder("./metalgate", "run", "--demo", "--port", String.valueOf(port), "--data-dir", dataDir.toString(),
                "-Dmetalgate.boot.tftp.port=0").redirectErrorStream(true);
        pb.environment().put("METALGATE_DEMO_REDFISH_PORT", String.valueOf(redfish));
        pb.environment().put("METALGATE_DEMO_IPMI_PORT", String.valueOf(ipmi));
        Process p = pb.start();
        List<String> output = io.metalgate.testing.ProcessLines.collect(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(420);
        while (output.stream().noneMatch(l -> l.startsWith("metalgate demo lab ready"))) {
            if (!p.isAlive() || System.nanoTime() > deadline || output.stream().anyMatch(l -> l.contains("demo lab: seeding stopped"))) {
                stop(p);
                throw new AssertionError("the demo lab did not come up:\n" + String.join("\n", output));
            }
            Thread.sleep(200);
        }
        return new Lab(p, output, port, redfish);
    }

    static void stop(Process p) throws InterruptedException {
        List<ProcessHandle> family = p.descendants().toList();
        p.destroy(); // SIGTERM: the script stops its children (the emulators, the appliance)
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        family.forEach(ProcessHandle::destroyForcibly);
    }

    @Test
    void theDemoLabIsAFleetToClickThrough() throws Exception {
        Path dataDir = Files.createTempDirectory(Paths.get("target").toAbsolutePath(), "demo-lab-");
        Lab lab = start(dataDir);
        try {
            HttpClient http = HttpClient.newHttpClient();
            ObjectMapper json = new ObjectMapper();
            String olivia = "Basic " + Base64.getEncoder().encodeToString("olivia:metalgate-demo".getBytes(StandardCharsets.UTF_8));
            java.util.function.Function<String, JsonNode> get = path -> {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lab.port() + path))
                            .header("Authorization", olivia).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), path + ": " + r.body());
                    return json.readTree(r.body());
                } catch (IOException | InterruptedException e) {
                    throw new AssertionError(e);
                }
            };
            assertEquals(48, get.apply("/api/machines?size=1").path("total").asInt());
            assertEquals(4, get.apply("/api/tenants").size());
            assertEquals(8, get.apply("/api/machines?protocol=IPMI&size=1").path("total").asInt());
            assertEquals(10, get.apply("/api/machines?state=AVAILABLE&size=1").path("total").asInt());
            assertEquals(14, get.apply("/api/machines?state=ACTIVE&size=1").path("total").asInt());
            assertEquals(10, get.apply("/api/machines?state=SUSPENDED&size=1").path("total").asInt());
            assertEquals(14, get.apply("/api/machines?state=RETAINED&size=1").path("total").asInt());
            assertTrue(get.apply("/api/holds?active=true").size() >= 1);

            String available = get.apply("/api/machines?state=AVAILABLE&protocol=REDFISH&size=1").path("items").get(0).path("id").asText();
            String host = get.apply("/api/machines/" + available).path("bmc").path("host").asText();
            try (Playwright playwright = io.metalgate.testing.Browser.playwright();
                    Browser browser = io.metalgate.testing.Browser.launch(playwright)) {
                Page page = browser.newContext(new Browser.NewContextOptions().setColorScheme(ColorScheme.DARK).setViewportSize(1440, 900)
                        .setBaseURL("http://127.0.0.1:" + lab.port())).newPage();
                page.navigate("/");
                page.getByLabel("User name").fill("olivia");
                page.getByLabel("Password").fill("metalgate-demo");
                page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in")).click();
                page.waitForURL("**/console");
                String dashboard = page.locator("main").innerText();
                assertTrue(dashboard.contains("awaiting approval"), dashboard);
                shot(page, "demo-dashboard");
                page.navigate("/console/machines");
                shot(page, "demo-machines");
                page.navigate("/console/operations");
                page.locator("a[href^='/console/bulk/']").first().click();
                page.waitForURL("**/console/bulk/**");
                String plan = page.locator("main").innerText();
                assertTrue(plan.contains("HOLD"), "the blocked bulk erase names the hold: " + plan);
                assertTrue(plan.contains("0 allowed"), plan);
                shot(page, "demo-bulk-blocked");
                String retained = get.apply("/api/machines?state=RETAINED&name=r3-rf24&size=1").path("items").get(0).path("id").asText();
                page.navigate("/console/machines/" + retained);
                page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("ERASE now")).click();
                page.waitForLoadState();
                assertTrue(page.locator("#flash").innerText().contains("HOLD"), page.locator("#flash").innerText());
                shot(page, "demo-erase-refused");
                page.navigate("/console/machines/" + available);
                page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Power on").setExact(true)).click();
                page.waitForLoadState();
                assertEquals("On", redfishPower(host, lab.redfishPort()));
                page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Power off").setExact(true)).click();
                page.waitForLoadState();
                assertTrue(page.locator("#flash").innerText().contains("allowed by the gate"));
                // the emulated BMC (another process) really changed its state
                assertEquals("Off", redfishPower(host, lab.redfishPort()));
                shot(page, "demo-machine");
            }
        } finally {
            stop(lab.process());
        }
        assertTrue(lab.output().stream().noneMatch(l -> l.contains(" ERROR ")), String.join("\n", lab.output().stream()
                .filter(l -> l.contains(" ERROR ")).toList()));
    }

    static void shot(Page page, String name) {
        page.screenshot(new Page.ScreenshotOptions().setPath(Paths.get("target", "screenshots", name + ".png")).setFullPage(true));
        // the first screenful as a small JPEG, as README.md shows them (docs/screenshots)
        page.screenshot(new Page.ScreenshotOptions().setPath(Paths.get("target", "screenshots", name + ".jpg"))
                .setType(com.microsoft.playwright.options.ScreenshotType.JPEG).setQuality(80));
    }

    /** The power state the Redfish emulator reports for the BMC on {@code host}. */
    static String redfishPower(String host, int port) throws Exception {
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] { new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {
            }

            public void checkServerTrusted(X509Certificate[] c, String a) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        } }, null);
        String auth = "Basic " + Base64.getEncoder().encodeToString("admin:redfish-secret".getBytes(StandardCharsets.UTF_8));
        java.util.function.Function<String, JsonNode> get = path -> {
            try {
                var c = (javax.net.ssl.HttpsURLConnection) URI.create("https://" + host + ":" + port + path).toURL().openConnection();
                c.setSSLSocketFactory(trustAll.getSocketFactory());
                c.setHostnameVerifier((h, s) -> true); // the emulator's self-signed certificate names no 127.1.0.x
                c.setRequestProperty("Authorization", auth);
                try (var in = c.getInputStream()) {
                    return new ObjectMapper().readTree(in);
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        };
        String system = get.apply("/redfish/v1/Systems").path("Members").get(0).path("@odata.id").asText();
        return get.apply(system).path("PowerState").asText();
    }
}
