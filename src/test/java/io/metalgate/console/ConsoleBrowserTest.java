package io.metalgate.console;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.ColorScheme;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Api;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The console in a real browser (Debian's chromium through Playwright): sign-in, a power action that changes an
 * emulated BMC, a hold placed, an erase refused with its reasons, a bulk preview and its typed confirmation, a
 * two-person hold release, a viewer without action buttons whose forged POST is refused, a form without its CSRF
 * token refused; axe-core on every page (no serious or critical violation, dark and light). Screenshots are written
 * to target/screenshots (a few are committed under docs/screenshots).
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class ConsoleBrowserTest {

    static final Path SHOTS = Paths.get("target", "screenshots");

    static Playwright playwright;
    static Browser browser;
    static RedfishMock available;
    static RedfishMock retained;
    static String machine;
    static String retainedMachine;
    static String tenant;

    @TestHTTPResource("/")
    URL base;

    static synchronized void lab() {
        if (playwright == null) {
            playwright = io.metalgate.testing.Browser.playwright();
            browser = io.metalgate.testing.Browser.launch(playwright);
            available = Lifecycle.bmcs(1, Profile.IDRAC);
            machine = Lifecycle.available(available, 1, "browser").get(0);
            retained = Lifecycle.bmcs(1, Profile.ILO);
            Lifecycle.Fleet f = Lifecycle.retained(retained, 1, "browser-tenant");
            retainedMachine = f.machines().get(0);
            tenant = f.tenant();
        }
    }

    @BeforeEach
    void setUp() {
        lab();
    }

    @AfterAll
    static void close() {
        if (playwright != null) {
            browser.close();
            playwright.close();
            available.close();
            retained.close();
        }
    }

    Page signedIn(String user, String password, ColorScheme scheme) {
        return signedIn(user, password, scheme, false);
    }

    /** {@code bypassCsp}: only for injecting axe-core (an inline script the console's CSP rightly refuses). */
    Page signedIn(String user, String password, ColorScheme scheme, boolean bypassCsp) {
        BrowserContext context = browser.newContext(new Browser.NewContextOptions().setColorScheme(scheme).setViewportSize(1440, 900)
                .setBaseURL(base.toString()).setBypassCSP(bypassCsp));
        Page page = context.newPage();
        page.navigate("/console");
        // not signed in: the console sends the browser to its login page
        assertTrue(page.url().contains("/console/login"), page.url());
        page.getByLabel("User name").fill(user);
        page.getByLabel("Password").fill(password);
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in")).click();
        page.waitForURL("**/console");
        return page;
    }

    Page signedIn(String role) {
        as(role);
        return signedIn("test-" + role, Api.PASSWORD, ColorScheme.DARK);
    }

    static void shot(Page page, String name) {
        page.screenshot(new Page.ScreenshotOptions().setPath(SHOTS.resolve(name + ".png")).setFullPage(true));
    }

    static String flash(Page page) {
        return page.locator("#flash").innerText();
    }

    @Test
    void signInAndPowerOffAnEmulatedBmc() {
        available.bmc(0).setPowerState("On");
        Page page = signedIn("admin", Api.adminPassword(), ColorScheme.DARK);
        assertTrue(page.locator("h1").innerText().contains("Fleet"));
        shot(page, "dashboard");
        page.navigate("/console/machines");
        shot(page, "machines");
        page.navigate("/console/machines/" + machine);
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Power off").setExact(true)).click();
        page.waitForLoadState();
        assertTrue(flash(page).contains("allowed by the gate"), flash(page));
        assertEquals("Off", available.bmc(0).powerState(), "the emulated BMC was powered off");
        page.context().close();
    }

    @Test
    void anEraseIsRefusedWithEveryReasonAndAHoldIsPlaced() {
        Page page = signedIn("operator");
        page.navigate("/console/machines/" + retainedMachine);
        // the gate panel answers before anyone clicks
        String panel = page.locator("section.gate").innerText();
        assertTrue(panel.contains("ERASE: not allowed"), panel);
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("ERASE now")).click();
        page.waitForLoadState();
        String refused = flash(page);
        assertTrue(refused.contains("not allowed"), refused);
        assertTrue(page.locator("#flash .reasons li").count() >= 2, "every reason is listed: " + refused);
        assertTrue(refused.contains("RETENTION") || refused.contains("NOTICE_NOT_PROVEN") || refused.contains("APPROVAL_MISSING"), refused);
        shot(page, "erase-refused");
        page.context().close();

        Page legal = signedIn("legal");
        legal.navigate("/console/holds");
        legal.locator("#hold-tenant").selectOption(tenant);
        legal.locator("#hold-kind").selectOption("PRESERVATION_REQUEST");
        legal.locator("#hold-reason").fill("the tenant's lawyers asked us to keep everything");
        legal.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Place hold")).click();
        legal.waitForLoadState();
        assertTrue(flash(legal).contains("Hold placed"), flash(legal));
        legal.navigate("/console/machines/" + retainedMachine);
        assertTrue(legal.locator("section.gate").innerText().contains("HOLD"), "the gate now names the hold");
        legal.context().close();
    }

    @Test
    void aBulkPreviewAndItsTypedConfirmation() {
        Page page = signedIn("operator");
        page.navigate("/console/machines?q=browser");
        page.locator("input[name=ids]").first().check();
        page.locator("#bulk-action").selectOption("POWER_OFF");
        page.locator("#bulk-reason").fill("rack R7 maintenance");
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Preview blast radius")).click();
        page.waitForURL("**/console/bulk/**");
        assertTrue(page.locator("#plan").innerText().contains("Blast radius"));
        String expected = page.locator("label[for=confirm] kbd").innerText();
        assertTrue(expected.startsWith("POWER_OFF "), expected);
        shot(page, "bulk-preview");
        // a wrong confirmation does nothing (the browser's own pattern check is bypassed: the server checks too)
        page.locator("#confirm").evaluate("e => e.removeAttribute('pattern')");
        page.locator("#confirm").fill("POWER_OFF 999");
        page.locator("#execute button").click();
        page.waitForLoadState();
        assertTrue(flash(page).contains("nothing was done"), flash(page));
        page.locator("#confirm").fill(expected);
        page.locator("#execute button").click();
        page.waitForLoadState();
        assertTrue(flash(page).contains("Executing"), flash(page));
        page.context().close();
    }

    @Test
    void twoPeopleReleaseAHold() {
        String t = admin().body(Map.of("name", unique("browser-hold"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", t, "reason", "subpoena 12")).post("/api/holds").then().statusCode(201);
        String hold = PostgresTestResource.sqlValue("SELECT id FROM hold WHERE tenant_id = ?::uuid", t);
        Page first = signedIn("legal");
        first.navigate("/console/holds");
        first.locator("#rel-" + hold).fill("subpoena withdrawn");
        first.locator("#hold-" + hold + " button").click();
        first.waitForLoadState();
        assertTrue(flash(first).contains("a second person"), flash(first));
        first.context().close();
        Page second = signedIn("approver");
        second.navigate("/console/holds");
        assertTrue(second.locator("#hold-" + hold).innerText().contains("release asked by test-legal"));
        second.locator("#rel-" + hold).fill("read the withdrawal letter");
        second.locator("#hold-" + hold + " button").click();
        second.waitForLoadState();
        assertTrue(flash(second).contains("Hold released"), flash(second));
        shot(second, "holds");
        second.context().close();
    }

    @Test
    void aViewerSeesNoActionsAndHerForgedPostsAreRefused() {
        available.bmc(0).setPowerState("On");
        Page page = signedIn("viewer");
        page.navigate("/console/machines/" + machine);
        assertEquals(0, page.locator("form[action$='/power']").count(), "no power buttons for a viewer");
        assertEquals(0, page.locator("form[action$='/act']").count(), "no gate action buttons for a viewer");
        page.navigate("/console/machines");
        assertEquals(0, page.locator("input[name=ids]").count(), "no bulk selection for a viewer");
        String csrf = (String) page.evaluate("() => document.querySelector('input[name=_csrf]').value");
        // forged: the viewer's own valid token, a POST the page never offered
        Object status = page.evaluate("async ([m, t]) => (await fetch('/console/machines/' + m + '/power', {method: 'POST', "
                + "headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'op=off&_csrf=' + encodeURIComponent(t)})).status",
                List.of(machine, csrf));
        assertEquals(403, ((Number) status).intValue());
        // and without the token at all
        Object noToken = page.evaluate("async (m) => (await fetch('/console/machines/' + m + '/power', {method: 'POST', "
                + "headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'op=off'})).status", machine);
        assertEquals(403, ((Number) noToken).intValue());
        assertEquals("On", available.bmc(0).powerState());
        page.context().close();
    }

    @Test
    void anOperatorsFormWithoutItsCsrfTokenIsRefused() {
        available.bmc(0).setPowerState("On");
        Page page = signedIn("operator");
        page.navigate("/console/machines/" + machine);
        // a page of another site would post exactly this: the session cookie rides along (SameSite aside), the token does not
        page.evaluate("() => document.querySelectorAll('input[name=_csrf]').forEach(i => i.remove())");
        page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Power off").setExact(true)).click();
        page.waitForLoadState();
        assertTrue(page.content().contains("CSRF"), "refused, naming why");
        assertEquals("On", available.bmc(0).powerState());
        page.context().close();
    }

    @Test
    void everyPageHasNoSeriousAccessibilityViolation() {
        String axe = io.metalgate.testing.Browser.axeScript();
        for (ColorScheme scheme : List.of(ColorScheme.DARK, ColorScheme.LIGHT)) {
            Page page = signedIn("admin", Api.adminPassword(), scheme, true);
            for (String path : List.of("/console", "/console/machines", "/console/machines/" + machine, "/console/machines/" + retainedMachine,
                    "/console/tenants", "/console/holds", "/console/approvals", "/console/notices", "/console/operations", "/console/audit",
                    "/console/integrations")) {
                page.navigate(path);
                page.addScriptTag(new Page.AddScriptTagOptions().setContent(axe));
                @SuppressWarnings("unchecked")
                List<String> serious = (List<String>) page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                        + ".violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
                        + ".map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))");
                assertTrue(serious.isEmpty(), scheme + " " + path + ": " + serious);
            }
            page.context().close();
        }
        Page login = browser.newPage(new Browser.NewPageOptions().setBaseURL(base.toString()).setBypassCSP(true));
        login.navigate("/console/login");
        login.addScriptTag(new Page.AddScriptTagOptions().setContent(axe));
        Object serious = login.evaluate("async () => (await axe.run()).violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id)");
        assertFalse(((List<?>) serious).size() > 0, "login: " + serious);
        shot(login, "login");
        login.close();
    }
}
