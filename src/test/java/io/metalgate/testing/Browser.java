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
 * downloaded; ./metalgate test installs chromium), and axe-core from the npm registry for accessibility checks.
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

    /** axe-core's browser script, fetched once from the npm registry into target/npm. */
    public static synchronized String axeScript() {
        Path dir = Paths.get("target", "npm");
        Path script = dir.resolve("axe-core-" + AXE_VERSION).resolve("package").resolve("axe.min.js");
        try {
            if (!Files.exists(script)) {
                Files.createDirectories(script.getParent().getParent());
                run(dir, "npm", "pack", "--silent", "axe-core@" + AXE_VERSION);
                run(dir, "tar", "xzf", "axe-core-" + AXE_VERSION + ".tgz", "-C", "axe-core-" + AXE_VERSION);
            }
            return Files.readString(script);
        } catch (IOException e) {
            throw new IllegalStateException("cannot get axe-core " + AXE_VERSION + " from the npm registry", e);
        }
    }

    private static void run(Path dir, String... command) throws IOException {
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("npm.log").toFile())
                    .start();
            if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed; see " + dir.resolve("npm.log"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
