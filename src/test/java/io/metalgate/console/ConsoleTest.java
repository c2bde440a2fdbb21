package io.metalgate.console;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Api;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The console over plain HTTP (what a browser without JavaScript does): sign-in, the session cookie's flags,
 * CSRF, roles re-checked on the server, logout and idle timeout, every page; and the API's 401s unchanged.
 * ConsoleBrowserTest drives the same in a real browser.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class ConsoleTest {

    static RedfishMock bmcs;
    static String machine;

    // once, at the first test that needs it (RestAssured knows the appliance's port only once it started)
    static synchronized void lab() {
        if (bmcs == null) {
            bmcs = Lifecycle.bmcs(1, Profile.GENERIC);
            machine = Lifecycle.available(bmcs, 1, "console").get(0);
        }
    }

    @BeforeEach
    void setUp() {
        lab();
    }

    @AfterAll
    static void stop() {
        if (bmcs != null) {
            bmcs.close();
        }
    }

    /** A signed-in browser: its session cookie and the CSRF token its pages carry. */
    record Browser(String session, String csrf) {
    }

    static Browser signIn(String user, String password) {
        Response form = given().redirects().follow(false).get("/console/login");
        form.then().statusCode(200);
        String loginCookie = form.getCookie(ConsoleLogin.LOGIN_COOKIE);
        String token = field(form.asString(), "_login");
        Response signed = given().redirects().follow(false).cookie(ConsoleLogin.LOGIN_COOKIE, loginCookie).formParam("_login", token)
                .formParam("username", user).formParam("password", password).formParam("next", "/console/machines").post("/console/login");
        signed.then().statusCode(303).header("Location", startsWith("http")).header("Location", containsString("/console/machines"));
        String setCookie = signed.getHeaders().getValues("Set-Cookie").stream().filter(c -> c.startsWith("metalgate_session=")).findFirst().orElseThrow();
        assertTrue(setCookie.contains("HttpOnly"), setCookie);
        assertTrue(setCookie.contains("SameSite=Strict"), setCookie);
        assertTrue(setCookie.contains("Path=/console"), setCookie);
        String session = signed.getCookie("metalgate_session");
        String page = given().cookie("metalgate_session", session).get("/console").then().statusCode(200).extract().asString();
        return new Browser(session, field(page, "_csrf"));
    }

    static Browser signIn(String role) {
        as(role); // creates test-<role>
        return signIn("test-" + role, Api.PASSWORD);
    }

    static String field(String html, String name) {
        Matcher m = Pattern.compile("name=\"" + name + "\" value=\"([^\"]+)\"").matcher(html);
        assertTrue(m.find(), "no field " + name + " in the page");
        return m.group(1);
    }

    @Test
    void rootOpensTheConsoleAndTheConsoleAsksToSignIn() {
        given().redirects().follow(false).get("/").then().statusCode(303).header("Location", containsString("/console"));
        given().redirects().follow(false).get("/console/machines?state=ACTIVE").then().statusCode(303)
                .header("Location", containsString("/console/login?next=%2Fconsole%2Fmachines%3Fstate%3DACTIVE"));
        // the API answers as before: 401 problem+json with a Basic challenge, never a redirect
        given().redirects().follow(false).get("/api/machines").then().statusCode(401).contentType(containsString("problem+json"))
                .header("WWW-Authenticate", containsString("Basic"));
    }

    @Test
    void wrongPasswordOrForeignLoginFormIsRefused() {
        as("viewer");
        Response form = given().get("/console/login");
        String token = field(form.asString(), "_login");
        given().cookie(ConsoleLogin.LOGIN_COOKIE, form.getCookie(ConsoleLogin.LOGIN_COOKIE)).formParam("_login", token)
                .formParam("username", "test-viewer").formParam("password", "wrong").post("/console/login")
                .then().statusCode(401).body(containsString("Wrong user name or password")).header("Set-Cookie", not(containsString("metalgate_session=")));
        // login CSRF: a form posted from another site carries no login cookie of this browser
        given().formParam("_login", token).formParam("username", "test-viewer").formParam("password", Api.PASSWORD).post("/console/login")
                .then().statusCode(403);
        // guessing is slowed: after five failures of one user, the form answers 429 without checking the password
        as("operator", "guessed-user");
        for (int i = 0; i < 6; i++) {
            Response f = given().get("/console/login");
            int status = given().cookie(ConsoleLogin.LOGIN_COOKIE, f.getCookie(ConsoleLogin.LOGIN_COOKIE)).formParam("_login", field(f.asString(), "_login"))
                    .formParam("username", "guessed-user").formParam("password", i == 5 ? Api.PASSWORD : "guess-" + i).post("/console/login").statusCode();
            assertEquals(i < 5 ? 401 : 429, status, "attempt " + (i + 1));
        }
        // an open redirect is not followed: next must be a console path
        assertEquals("/console", ConsoleLogin.safeNext("https://evil.example/"));
        assertEquals("/console", ConsoleLogin.safeNext("/console//evil.example"));
        assertEquals("/console", ConsoleLogin.safeNext("/consolex"));
        assertEquals("/console/holds", ConsoleLogin.safeNext("/console/holds"));
    }

    @Test
    void theSessionCookieIsNotAnApiCredential() {
        Browser b = signIn("operator");
        given().cookie("metalgate_session", b.session()).get("/api/machines").then().statusCode(401);
        given().cookie("metalgate_session", b.session()).get("/q/metrics").then().statusCode(401);
    }

    @Test
    void everyPageRendersForAnAdmin() {
        String password = Api.adminPassword();
        Browser b = signIn("admin", password);
        for (String path : List.of("/console", "/console/machines", "/console/machines?state=AVAILABLE&power=ON&q=console",
                "/console/machines/" + machine, "/console/tenants", "/console/holds", "/console/approvals", "/console/notices",
                "/console/operations", "/console/audit", "/console/audit?subject=machine:" + machine, "/console/integrations")) {
            given().cookie("metalgate_session", b.session()).get(path).then().statusCode(200).contentType(containsString("text/html"))
                    .header("Cache-Control", "no-store").body(containsString("<main id=\"main\""))
                    .header("Content-Security-Policy", containsString("script-src 'self';")).header("X-Frame-Options", "DENY");
        }
        given().cookie("metalgate_session", b.session()).get("/console/machines/" + machine).then()
                .body(containsString("ERASE: not allowed")).body(containsString("Power off"));
        given().cookie("metalgate_session", b.session()).get("/console/machines?state=NOPE").then().statusCode(400);
        given().cookie("metalgate_session", b.session()).get("/console/machines/not-a-uuid").then().statusCode(404);
    }

    @Test
    void aFormWithoutThisSessionsCsrfTokenActsOnNothing() {
        Browser b = signIn("operator");
        String before = bmcs.bmc(0).powerState();
        given().cookie("metalgate_session", b.session()).formParam("op", "off").post("/console/machines/" + machine + "/power")
                .then().statusCode(403).body(containsString("CSRF"));
        given().cookie("metalgate_session", b.session()).formParam("op", "off").formParam("_csrf", "forged-" + b.csrf())
                .post("/console/machines/" + machine + "/power").then().statusCode(403);
        // another user's token is not this session's either
        Browser other = signIn("approver");
        given().cookie("metalgate_session", b.session()).formParam("op", "off").formParam("_csrf", other.csrf())
                .post("/console/machines/" + machine + "/power").then().statusCode(403);
        assertEquals(before, bmcs.bmc(0).powerState());
        assertEquals("0", PostgresTestResource.sqlValue("SELECT count(*) FROM audit_entry WHERE subject = 'machine:' || ? AND action LIKE 'bmc.power%'", machine));
    }

    /** Every form the console takes (each @POST of ConsoleResource, found by reflection) refuses a post without the token. */
    @Test
    void everyConsoleFormRefusesAPostWithoutItsCsrfToken() {
        Browser b = signIn("admin", Api.adminPassword());
        int forms = 0;
        for (var method : ConsoleResource.class.getDeclaredMethods()) {
            if (!method.isAnnotationPresent(jakarta.ws.rs.POST.class)) {
                continue;
            }
            forms++;
            String path = "/console" + method.getAnnotation(jakarta.ws.rs.Path.class).value().replace("{id}", machine)
                    .replace("{decision:approve|reject}", "approve");
            given().cookie("metalgate_session", b.session()).formParam("reason", "x").formParam("op", "off").post(path)
                    .then().statusCode(403).body(containsString("CSRF"));
        }
        assertTrue(forms >= 10, "found " + forms + " forms");
        given().cookie("metalgate_session", b.session()).post("/console/logout").then().statusCode(403);
    }

    @Test
    void aViewerSeesNoActionsAndHerForgedPostIsRefusedByTheServer() {
        Browser viewer = signIn("viewer");
        String page = given().cookie("metalgate_session", viewer.session()).get("/console/machines/" + machine).then().statusCode(200)
                .extract().asString();
        assertTrue(!page.contains("Power off") && !page.contains("/act\"") && !page.contains("Request approval"), "a viewer sees no action");
        String before = bmcs.bmc(0).powerState();
        // with her own valid CSRF token: the API method's roles refuse it
        given().cookie("metalgate_session", viewer.session()).formParam("_csrf", viewer.csrf()).formParam("op", "off")
                .post("/console/machines/" + machine + "/power").then().statusCode(403);
        given().cookie("metalgate_session", viewer.session()).formParam("_csrf", viewer.csrf()).formParam("action", "ERASE")
                .post("/console/machines/" + machine + "/act").then().statusCode(403);
        given().cookie("metalgate_session", viewer.session()).formParam("_csrf", viewer.csrf()).formParam("kind", "LEGAL_HOLD")
                .formParam("tenantId", "00000000-0000-0000-0000-000000000000").formParam("reason", "x").post("/console/holds").then().statusCode(403);
        given().cookie("metalgate_session", viewer.session()).get("/console/integrations").then().statusCode(403);
        assertEquals(before, bmcs.bmc(0).powerState());
    }

    @Test
    void anOperatorPowersOffThroughTheGateAndTheRefusalOfAnEraseNamesEveryReason() {
        Browser op = signIn("operator");
        bmcs.bmc(0).setPowerState("On");
        given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("op", "off")
                .post("/console/machines/" + machine + "/power").then().statusCode(200).body(containsString("allowed by the gate"));
        assertEquals("Off", bmcs.bmc(0).powerState());
        given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("device", "PXE")
                .post("/console/machines/" + machine + "/boot").then().statusCode(200).body(containsString("Boot override PXE"));
        given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("device", "PXE").formParam("persistent", "on")
                .post("/console/machines/" + machine + "/boot").then().statusCode(400).body(containsString("next boot only"));
        String refused = given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("action", "ERASE")
                .post("/console/machines/" + machine + "/act").then().statusCode(409).extract().asString();
        assertTrue(refused.contains("Refused") || refused.contains("not allowed"), refused);
        assertTrue(refused.contains("<code>MACHINE_STATE</code>") || refused.contains("<code>"), "the reasons are listed");
    }

    @Test
    void logoutEndsTheSessionOnTheServerAndAnIdleSessionEnds() {
        Browser b = signIn("viewer");
        given().cookie("metalgate_session", b.session()).formParam("_csrf", b.csrf()).redirects().follow(false).post("/console/logout")
                .then().statusCode(303).header("Set-Cookie", containsString("metalgate_session=;"));
        given().cookie("metalgate_session", b.session()).redirects().follow(false).get("/console").then().statusCode(303)
                .header("Location", containsString("/console/login"));
        Browser idle = signIn("viewer");
        PostgresTestResource.sql("UPDATE console_session SET last_seen_at = now() - interval '31 minutes' WHERE username = ?", "test-viewer");
        given().cookie("metalgate_session", idle.session()).redirects().follow(false).get("/console").then().statusCode(303);
        assertEquals("0", PostgresTestResource.sqlValue("SELECT count(*) FROM console_session WHERE token_hash = encode(sha256(convert_to(?, 'UTF8')), 'hex')", b.session()));
        assertNotNull(PostgresTestResource.sqlValue("SELECT max(seq) FROM audit_entry WHERE action = 'console.signed-out' AND actor = ?", "test-viewer"));
    }

    @io.quarkus.test.common.http.TestHTTPResource("/console/live")
    java.net.URI live;

    @Test
    void theLiveStreamSaysChangedWhenTheAuditLogGrows() throws Exception {
        Browser b = signIn("viewer");
        var client = java.net.http.HttpClient.newHttpClient();
        var request = java.net.http.HttpRequest.newBuilder(live).header("Cookie", "metalgate_session=" + b.session())
                .header("Accept", "text/event-stream").build();
        var response = client.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.ofLines()).get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, response.statusCode());
        var seen = new java.util.concurrent.CompletableFuture<String>();
        Thread reader = new Thread(() -> response.body().filter(l -> l.startsWith("event:")).findFirst().ifPresent(seen::complete));
        reader.setDaemon(true);
        reader.start();
        // wait for the stream's first look at the log, then change it (a tenant created is audited)
        Thread.sleep(2500);
        admin().body(Map.of("name", unique("live"))).post("/api/tenants").then().statusCode(201);
        String event = seen.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(event.replace(" ", "").equals("event:changed"), event);
        // no session, no stream
        var anonymous = client.send(java.net.http.HttpRequest.newBuilder(live).build(), java.net.http.HttpResponse.BodyHandlers.discarding());
        assertEquals(303, anonymous.statusCode());
    }

    @Test
    void aNewPasswordEndsTheUsersConsoleSessions() {
        as("viewer", "password-changer");
        Browser b = signIn("password-changer", Api.PASSWORD);
        admin().body(Map.of("password", "another-correct-horse")).put("/api/users/password-changer/password").then().statusCode(204);
        given().cookie("metalgate_session", b.session()).redirects().follow(false).get("/console").then().statusCode(303);
        admin().body(Map.of("password", Api.PASSWORD)).put("/api/users/password-changer/password").then().statusCode(204);
    }

    @Test
    void aLivePagesOwnRefreshesDoNotKeepItsSessionAlive() {
        as("viewer", "wall-screen");
        Browser b = signIn("wall-screen", Api.PASSWORD);
        PostgresTestResource.sql("UPDATE console_session SET last_seen_at = now() - interval '29 minutes' WHERE username = ?", "wall-screen");
        given().cookie("metalgate_session", b.session()).header("X-Metalgate-Refresh", "1").get("/console").then().statusCode(200);
        assertEquals("yes", PostgresTestResource.sqlValue("SELECT CASE WHEN max(last_seen_at) < now() - interval '28 minutes' THEN 'yes' END "
                + "FROM console_session WHERE username = ?", "wall-screen"), "a refresh is not a person's use");
        given().cookie("metalgate_session", b.session()).get("/console").then().statusCode(200);
        assertEquals("yes", PostgresTestResource.sqlValue("SELECT CASE WHEN max(last_seen_at) > now() - interval '1 minute' THEN 'yes' END "
                + "FROM console_session WHERE username = ?", "wall-screen"), "a click is");
    }

    @Test
    void everyMachineMatchingTheFilterIsExactlyWhatTheTableCounted() {
        Browser op = signIn("operator");
        String name = PostgresTestResource.sqlValue("SELECT name FROM machine WHERE id = ?::uuid", machine);
        Response planned = given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("action", "POWER_OFF")
                .formParam("reason", "filtered").formParam("scope", "filter").formParam("q", name).formParam("power", "").formParam("tenant", "")
                .redirects().follow(false).post("/console/bulk");
        planned.then().statusCode(303);
        String plan = planned.getHeader("Location").substring(planned.getHeader("Location").lastIndexOf('/') + 1);
        assertEquals("1", PostgresTestResource.sqlValue("SELECT cardinality(machine_ids) FROM bulk_plan WHERE id = ?::uuid", plan));
        // a filter nothing matches plans nothing
        given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("action", "POWER_OFF").formParam("reason", "x")
                .formParam("scope", "filter").formParam("q", name).formParam("power", "UNKNOWN").formParam("state", "ERASED").post("/console/bulk")
                .then().statusCode(400).body(containsString("no machine was selected"));
        assertEquals("/console", ConsoleLogin.safeNext("/console/<x"));
        assertEquals("/console", ConsoleLogin.safeNext("/console/%zz"));
        assertEquals("nats://broker:4222/topic", ConsoleResource.endpointShown("nats://user:secret@broker:4222/topic?apiKey=k"));
    }

    @Test
    void twoPeopleReleaseAHoldInTheConsole() {
        String tenant = admin().body(Map.of("name", unique("hold-tenant"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        Browser legal = signIn("legal");
        given().cookie("metalgate_session", legal.session()).formParam("_csrf", legal.csrf()).formParam("kind", "LEGAL_HOLD")
                .formParam("tenantId", tenant).formParam("reason", "court order 7").post("/console/holds").then().statusCode(200)
                .body(containsString("Hold placed"));
        String hold = PostgresTestResource.sqlValue("SELECT id FROM hold WHERE tenant_id = ?::uuid", tenant);
        given().cookie("metalgate_session", legal.session()).formParam("_csrf", legal.csrf()).formParam("reason", "order lifted")
                .post("/console/holds/" + hold + "/release").then().statusCode(200).body(containsString("a second person"));
        // the same person again: refused, the hold stands
        given().cookie("metalgate_session", legal.session()).formParam("_csrf", legal.csrf()).formParam("reason", "again")
                .post("/console/holds/" + hold + "/release").then().statusCode(409);
        Browser approver = signIn("approver");
        given().cookie("metalgate_session", approver.session()).formParam("_csrf", approver.csrf()).formParam("reason", "checked the order")
                .post("/console/holds/" + hold + "/release").then().statusCode(200).body(containsString("Hold released"));
        assertEquals("yes", PostgresTestResource.sqlValue("SELECT CASE WHEN released_at IS NOT NULL THEN 'yes' END FROM hold WHERE id = ?::uuid", hold));
    }

    @Test
    void aBulkPlanExecutesOnlyAfterTheTypedConfirmationNamingItsCount() {
        Browser op = signIn("operator");
        Response planned = given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("action", "POWER_OFF")
                .formParam("reason", "rack maintenance").formParam("scope", "selected").formParam("ids", machine).redirects().follow(false)
                .post("/console/bulk");
        planned.then().statusCode(303);
        String location = planned.getHeader("Location");
        String plan = location.substring(location.lastIndexOf('/') + 1);
        String page = given().cookie("metalgate_session", op.session()).get("/console/bulk/" + plan).then().statusCode(200)
                .body(containsString("Blast radius")).extract().asString();
        assertTrue(page.contains("POWER_OFF 1"), "the confirmation names action and count");
        given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("confirm", "POWER_OFF")
                .post("/console/bulk/" + plan + "/execute").then().statusCode(400).body(containsString("nothing was done"));
        assertEquals("PLANNED", PostgresTestResource.sqlValue("SELECT status FROM bulk_plan WHERE id = ?::uuid", plan));
        given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("confirm", "POWER_OFF 1")
                .post("/console/bulk/" + plan + "/execute").then().statusCode(200).body(containsString("Executing"));
        // an empty selection is refused with a clear message
        given().cookie("metalgate_session", op.session()).formParam("_csrf", op.csrf()).formParam("action", "ERASE").formParam("reason", "x")
                .formParam("scope", "selected").post("/console/bulk").then().statusCode(400).body(containsString("Select machines first"));
        assertEquals("1", String.valueOf(given().cookie("metalgate_session", op.session()).get("/console/operations").then().statusCode(200)
                .extract().asString().contains(plan) ? 1 : 0));
        given().get("/console/static/console.css").then().statusCode(200).body(not(equalTo("")));
    }
}
