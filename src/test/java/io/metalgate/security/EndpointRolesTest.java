package io.metalgate.security;

import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.annotation.security.DenyAll;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every JAX-RS endpoint of the product declares who may call it, with known roles only. */
class EndpointRolesTest {

    /**
     * Endpoints open by design, each with why and what protects it instead. Only these may be @PermitAll.
     */
    static final java.util.Map<String, String> OPEN_BY_DESIGN = java.util.Map.ofEntries(
            java.util.Map.entry("RedfishEventResource.event", "BMCs push events and cannot hold API tokens; an event is accepted only with the HMAC Context issued for its machine, "
                    + "and it only makes the appliance ask the BMC again"),
            java.util.Map.entry("BootResource.script", "machines' firmware asks for its iPXE script and holds no credential; the script is chosen by the "
                    + "MAC's machine and state (local disk for anything but ERASING), and the erase agent's token it may carry is one-time, "
                    + "expiring, bound to that machine, and checked against the gate again when used"),
            java.util.Map.entry("EraseAgentResource.task", "the erase agent holds only the one-time token its boot script carried (401 without it); each "
                    + "call is decided again by the gate under the machine's lock, and a refusal spends the token"),
            java.util.Map.entry("EraseAgentResource.progress", "the agent's token (401 without it); it only records a disk's phase and percent"),
            java.util.Map.entry("EraseAgentResource.technique", "the agent's token (401 without it); it only answers which technique a disk of the inventory gets"),
            java.util.Map.entry("EraseAgentResource.report", "the agent's token (401 without it, spent by the report); a report is checked against the inventory "
                    + "and refused, audited, with the machine ERASE_FAILED, unless every disk was erased and verified"),
            java.util.Map.entry("WebhookResource.receive", "billing and ticketing systems sign rather than log in: a request is processed only with a valid "
                    + "HMAC-SHA256 signature by its integration's secret within the replay window (401 otherwise, nothing stored), and it can "
                    + "only carry lease events in that integration's name"),
            java.util.Map.entry("TenantPageResource.page", "a tenant holds no account: the page answers only for a notice's signed, expiring link "
                    + "(HMAC with the appliance's secrets key), and shows only that notice"),
            java.util.Map.entry("TenantPageResource.choose", "the signed link's token, carried in the form (no cookie, no session: no cross-site request "
                    + "without it); at most metalgate.notices.link-uses choices per link; each recorded and audited, and the only "
                    + "hold it can place is a preservation request, fail safe"),
            java.util.Map.entry("ConsoleLogin.loginPage", "the console's sign-in form: it shows nothing but the form (and sets the form's own "
                    + "login-CSRF cookie)"),
            java.util.Map.entry("ConsoleLogin.login", "signing in is how one gets an identity: the password is checked by the same identity provider "
                    + "as HTTP Basic (Argon2id), the form's double-submit token must match its cookie (no login CSRF), failures are "
                    + "throttled per user and per address"),
            java.util.Map.entry("AgentDisks.disks", "the agent's token (401 without it) and the machine's lock; found disks are believed only when the agent's "
                    + "system UUID is one the BMC reported (otherwise the token is spent and the machine ERASE_FAILED), and they only add "
                    + "disks the certificate must cover"));

    @Test
    void everyResourceMethodDeclaresItsRoles() throws Exception {
        List<Class<?>> resources = resourceClasses();
        assertTrue(resources.size() >= 7, "expected the API resources, found " + resources);
        List<String> undeclared = new ArrayList<>();
        for (Class<?> type : resources) {
            for (Method m : type.getDeclaredMethods()) {
                boolean endpoint = Stream.of(GET.class, POST.class, PUT.class, PATCH.class, DELETE.class)
                        .anyMatch(m::isAnnotationPresent);
                if (!endpoint) {
                    continue;
                }
                RolesAllowed roles = m.getAnnotation(RolesAllowed.class);
                if (OPEN_BY_DESIGN.containsKey(type.getSimpleName() + "." + m.getName())) {
                    assertTrue(m.isAnnotationPresent(PermitAll.class) && roles == null, m + " is open by design and must say so with @PermitAll");
                    continue;
                }
                if (roles == null && !m.isAnnotationPresent(DenyAll.class)) {
                    undeclared.add(type.getSimpleName() + "." + m.getName());
                    continue;
                }
                assertTrue(!m.isAnnotationPresent(PermitAll.class), m + " must not be open to everyone");
                if (roles != null) {
                    for (String r : roles.value()) {
                        assertTrue(Roles.ALL.contains(r), m + " names unknown role " + r);
                    }
                }
            }
        }
        assertTrue(undeclared.isEmpty(), "endpoints without @RolesAllowed: " + undeclared);
    }

    private static List<Class<?>> resourceClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        var root = Paths.get(Roles.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> out = new ArrayList<>();
        try (Stream<java.nio.file.Path> files = Files.walk(root)) {
            for (var f : files.filter(p -> p.toString().endsWith(".class") && !p.toString().contains("$")).toList()) {
                String name = root.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> c = Class.forName(name, false, EndpointRolesTest.class.getClassLoader());
                if (c.isAnnotationPresent(Path.class)) {
                    out.add(c);
                }
            }
        }
        return out;
    }
}
