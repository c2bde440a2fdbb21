package io.metalgate.testing;

import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.BrowserType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real browser for the console's tests: Playwright for Java driving Debian's chromium headless (no browser is
 * downloaded; ./metalgate test installs chromium), and axe-core from the npm registry (its tarball, checked by SHA-256)
 * for accessibility checks.
 * Neither is optional: a missing chromium fails the test with what to install.
 */
public final class Browser {

    public static final Path CHROMIUM = Paths.get(System.getProperty("metalgate.test.chromium", "/usr/bin/chromium"));
    static final String AXE_VERSION = "4.14.1";

    private Browser() {
    }

    public static Playwright playwright() {
        if (!Files.isExecutable(CHROMIUM)) {
            throw new IllegalStateException(CHROMIUM + " is missing: apt-get install chromium (./metalgate test installs it)");
        }
        return Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    }

    public static com.microsoft.playwright.Browser launch(Playwright playwright) {
        return playwright.chromium().launch(new BrowserType.LaunchOptions().setExecutablePath(CHROMIUM).setHeadless(true)
                .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run")));
    }

    /** axe-core's published tarball on the npm registry, and its SHA-256 (checked before use). */
    static final String AXE_URL = "https://registry.npmjs.org/axe-core/-/axe-core-" + AXE_VERSION + ".tgz";
    static final String AXE_SHA256 = "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745";

    /** axe-core's browser script, fetched once from the npm registry into target/npm (no npm client needed). */
    public static synchronized String axeScript() {
        Path dir = Paths.get("target", "npm", "axe-core-" + AXE_VERSION);
        Path script = dir.resolve("package").resolve("axe.min.js");
        try {
            if (!Files.exists(script)) {
                Files.createDirectories(dir);
                Path tgz = dir.resolve("axe-core.tgz");
                var response = java.net.http.HttpClient.newBuilder().followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build()
                        .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(AXE_URL)).build(),
                                java.net.http.HttpResponse.BodyHandlers.ofFile(tgz));
                if (response.statusCode() != 200) {
                    throw new IOException(AXE_URL + " answered " + response.statusCode());
                }
                String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(tgz)));
                if (!AXE_SHA256.equals(sha)) {
                    throw new IOException(AXE_URL + " has SHA-256 " + sha + ", not the recorded " + AXE_SHA256);
                }
                run(dir, "tar", "xzf", "axe-core.tgz");
            }
            return Files.readString(script);
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot get axe-core " + AXE_VERSION + " from the npm registry", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void run(Path dir, String... command) throws IOException {
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("tar.log").toFile())
                    .start();
            if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed; see " + dir.resolve("tar.log"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
