package io.metalgate.redfishmock;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One emulated BMC: the Redfish resource tree of a one-system rack server and its state (power, boot
 * override, virtual media, sessions, ETags, tasks), answering requests without any transport (the server
 * passes them in; tests may call {@link #handle} directly). Follows the DMTF schemas (ServiceRoot,
 * ComputerSystem, Manager, SessionService, VirtualMedia, Storage, Drive, Task) in the shape real BMCs
 * answer, with the differences of its {@link Profile}. Thread-safe: one lock per BMC.
 */
public final class MockBmc {

    /** An HTTP answer; {@code body} null for none; {@code hang} means never answer. */
    public record Response(int status, Map<String, String> headers, String body, boolean hang) {

        static Response json(int status, JsonObject body) {
            return new Response(status, new LinkedHashMap<>(Map.of("Content-Type", "application/json; charset=utf-8",
                    "OData-Version", "4.0")), body.encode(), false);
        }

        static Response empty(int status) {
            return new Response(status, new LinkedHashMap<>(), null, false);
        }

        Response header(String name, String value) {
            headers.put(name, value);
            return this;
        }
    }

    private final int index;
    private final Profile profile;
    private final String username;
    private final String password;
    public final Faults faults = new Faults();

    private final String root = "/redfish/v1";
    private final String system;
    private final String manager;
    private final String sessions = "/redfish/v1/SessionService/Sessions";
    private final String virtualMedia;

    // state, guarded by this
    private String powerState = "Off";
    private String bootTarget = "None";
    private String bootEnabled = "Disabled";
    private String bootMode = "UEFI";
    private String lastBootTarget = "None";
    private int boots;
    private int etag = 1;
    private String mediaImage;
    private boolean mediaInserted;
    private final Map<String, String> sessionTokens = new ConcurrentHashMap<>(); // token -> session id
    private final AtomicInteger sessionCounter = new AtomicInteger();
    private final Map<String, Long> tasks = new ConcurrentHashMap<>(); // task id -> completes at (ms)
    private final Map<String, Integer> erasedDrives = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    /** Requests being served right now (the server counts them, to check clients keep their per-BMC limit). */
    final AtomicInteger inFlight = new AtomicInteger();

    public MockBmc(int index, Profile profile, String username, String password) {
        this.index = index;
        this.profile = profile;
        this.username = username;
        this.password = password;
        this.system = root + "/Systems/" + profile.systemId();
        this.manager = root + "/Managers/" + profile.managerId();
        this.virtualMedia = (profile.virtualMediaUnderSystem() ? system : manager) + "/VirtualMedia";
    }

    public Profile profile() {
        return profile;
    }

    public synchronized String powerState() {
        return powerState;
    }

    /** Sets the power state as if someone pressed the button (for drift tests). */
    public synchronized void setPowerState(String state) {
        powerState = state;
        etag++;
    }

    /** The boot source the last power-on or restart used ("None" = the normal boot order). */
    public synchronized String lastBootTarget() {
        return lastBootTarget;
    }

    public synchronized int boots() {
        return boots;
    }

    public synchronized String mediaImage() {
        return mediaInserted ? mediaImage : null;
    }

    public int openSessions() {
        return sessionTokens.size();
    }

    public int requests() {
        return requests.get();
    }

    public Map<String, Integer> erasedDrives() {
        return Map.copyOf(erasedDrives);
    }

    /** Serial number of drive {@code n} (1-based) of this BMC. */
    public String driveSerial(int n) {
        return String.format("MOCK%06dD%d", index, n);
    }

    public String mac(int n) {
        return String.format("52:54:00:%02x:%02x:%02x", (index >> 8) & 0xff, index & 0xff, n);
    }

    public Response handle(String method, String path, Map<String, String> headers, String body) {
        requests.incrementAndGet();
        if (faults.hang) {
            return new Response(0, Map.of(), null, true);
        }
        if (faults.brokenForever) {
            return error(500, "Base.1.8.InternalError", "the service is broken (injected fault)");
        }
        if (faults.serverErrors > 0) {
            synchronized (faults) {
                if (faults.serverErrors > 0) {
                    faults.serverErrors--;
                    return error(503, "Base.1.8.ServiceTemporarilyUnavailable", "try again later (injected fault)").header("Retry-After", "1");
                }
            }
        }
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        int q = p.indexOf('?');
        if (q >= 0) {
            p = p.substring(0, q);
        }
        // the service root and login need no credentials (DSP0266 13.3)
        if (method.equals("GET") && (p.equals(root) || p.equals("/redfish"))) {
            return p.equals("/redfish") ? Response.json(200, new JsonObject().put("v1", root + "/")) : Response.json(200, serviceRoot());
        }
        if (method.equals("POST") && p.equals(sessions)) {
            return login(body);
        }
        String session = authenticate(headers);
        if (session == null) {
            return error(401, "Base.1.8.NoValidSession", "no valid session or credentials")
                    .header("WWW-Authenticate", "Basic realm=\"RedfishService\"");
        }
        Response r;
        try {
            r = route(method, p, headers, body, session);
        } catch (DecodeException | ClassCastException | IllegalArgumentException e) {
            r = error(400, "Base.1.8.MalformedJSON", "the request body is not valid: " + e.getMessage());
        }
        if (faults.malformedJson && method.equals("GET") && r.status() == 200 && r.body() != null) {
            return new Response(200, r.headers(), r.body().substring(0, r.body().length() / 2), false);
        }
        return r;
    }

    private Response route(String method, String p, Map<String, String> headers, String body, String session) {
        switch (method + " " + p) {
            case "GET /redfish/v1/Systems":
                return collection("ComputerSystemCollection", "Computer System Collection", root + "/Systems", system);
            case "GET /redfish/v1/Managers":
                return collection("ManagerCollection", "Manager Collection", root + "/Managers", manager);
            case "GET /redfish/v1/Chassis":
                return collection("ChassisCollection", "Chassis Collection", root + "/Chassis", root + "/Chassis/1");
            case "GET /redfish/v1/SessionService":
                return Response.json(200, odata("#SessionService.v1_1_8.SessionService", root + "/SessionService")
                        .put("ServiceEnabled", true).put("SessionTimeout", 1800).put("Sessions", link(sessions)));
            case "GET /redfish/v1/SessionService/Sessions":
                return collection("SessionCollection", "Session Collection", sessions,
                        sessionTokens.values().stream().map(id -> sessions + "/" + id).toArray(String[]::new));
            case "GET /redfish/v1/TaskService/Tasks":
                return collection("TaskCollection", "Task Collection", root + "/TaskService/Tasks",
                        tasks.keySet().stream().map(id -> root + "/TaskService/Tasks/" + id).toArray(String[]::new));
            default:
                break;
        }
        if (p.startsWith(sessions + "/") && method.equals("DELETE")) {
            String id = p.substring(sessions.length() + 1);
            boolean removed = sessionTokens.values().remove(id);
            return removed ? Response.empty(204) : error(404, "Base.1.8.ResourceMissingAtURI", p + " does not exist");
        }
        if (p.equals(system)) {
            if (method.equals("GET")) {
                return systemResource();
            }
            if (method.equals("PATCH")) {
                return patchSystem(headers, new JsonObject(body == null ? "{}" : body));
            }
            return error(405, "Base.1.8.OperationNotAllowed", method + " is not allowed on " + p);
        }
        if (p.equals(system + "/Actions/ComputerSystem.Reset") && method.equals("POST")) {
            return reset(new JsonObject(body == null ? "{}" : body));
        }
        if (p.equals(manager) && method.equals("GET")) {
            return Response.json(200, odata("#Manager.v1_10_0.Manager", manager).put("Id", profile.managerId()).put("ManagerType", "BMC")
                    .put("FirmwareVersion", "mock-1.0").put("VirtualMedia", profile.virtualMediaUnderSystem() ? null : link(virtualMedia)));
        }
        if (p.equals(virtualMedia) && method.equals("GET")) {
            return collection("VirtualMediaCollection", "Virtual Media Services", virtualMedia, virtualMedia + "/CD1");
        }
        if (p.equals(virtualMedia + "/CD1")) {
            return virtualMediaResource(method, body);
        }
        if (p.startsWith(virtualMedia + "/CD1/Actions/") && method.equals("POST")) {
            return virtualMediaAction(p.substring((virtualMedia + "/CD1/Actions/").length()), body);
        }
        if (method.equals("GET")) {
            JsonObject inventory = inventory(p);
            if (inventory != null) {
                return Response.json(200, inventory);
            }
            if (p.startsWith(root + "/TaskService/Tasks/")) {
                return task(p.substring((root + "/TaskService/Tasks/").length()));
            }
        }
        if (method.equals("POST") && p.startsWith(system + "/Storage/1/Drives/") && p.endsWith("/Actions/Drive.SecureErase")) {
            if (!profile.secureErase()) {
                return error(404, "Base.1.8.ResourceMissingAtURI", p + " does not exist");
            }
            String drive = p.substring((system + "/Storage/1/Drives/").length(), p.indexOf("/Actions/"));
            String taskId = String.valueOf(tasks.size() + 1);
            tasks.put(taskId, System.currentTimeMillis() + 300);
            erasedDrives.merge(drive, 1, Integer::sum);
            return Response.json(202, odata("#Task.v1_4_3.Task", root + "/TaskService/Tasks/" + taskId).put("TaskState", "Running"))
                    .header("Location", root + "/TaskService/Tasks/" + taskId);
        }
        return error(404, "Base.1.8.ResourceMissingAtURI", p + " does not exist");
    }

    private JsonObject serviceRoot() {
        JsonObject r = odata("#ServiceRoot.v1_11_0.ServiceRoot", root).put("Id", "RootService").put("Name", "Root Service")
                .put("RedfishVersion", "1.11.0").put("UUID", uuid().toString()).put("Vendor", profile.vendor())
                .put("Product", profile.product()).put("Systems", link(root + "/Systems")).put("Managers", link(root + "/Managers"))
                .put("Chassis", link(root + "/Chassis")).put("SessionService", link(root + "/SessionService"))
                .put("Links", new JsonObject().put("Sessions", link(sessions)));
        // vendors also announce themselves under Oem (iLO: Oem.Hpe, iDRAC: Oem.Dell) — older firmware has no Vendor property
        r.put("Oem", new JsonObject().put(profile.vendor().equals("HPE") ? "Hpe" : profile.vendor(), new JsonObject()));
        return r;
    }

    private UUID uuid() {
        return UUID.nameUUIDFromBytes(("mock-bmc-" + index).getBytes(StandardCharsets.UTF_8));
    }

    private synchronized Response systemResource() {
        JsonObject boot = new JsonObject().put("BootSourceOverrideTarget", bootTarget).put("BootSourceOverrideEnabled", bootEnabled)
                .put("BootSourceOverrideMode", bootMode)
                .put("BootSourceOverrideTarget@Redfish.AllowableValues", new JsonArray(List.of("None", "Pxe", "Hdd", "Cd", "UefiHttp", "BiosSetup")));
        JsonObject s = odata("#ComputerSystem.v1_13_0.ComputerSystem", system).put("Id", profile.systemId()).put("Name", "System")
                .put("SystemType", "Physical").put("Manufacturer", profile.vendor()).put("Model", profile.product())
                .put("SerialNumber", String.format("SN%08d", index)).put("UUID", uuid().toString())
                .put("Boot", boot)
                .put("ProcessorSummary", new JsonObject().put("Count", 2).put("Model", "Mock Xeon 4314"))
                .put("MemorySummary", new JsonObject().put("TotalSystemMemoryGiB", 128))
                .put("Processors", link(system + "/Processors")).put("Memory", link(system + "/Memory"))
                .put(faults.onlySimpleStorage ? "SimpleStorage" : "Storage", link(system + (faults.onlySimpleStorage ? "/SimpleStorage" : "/Storage")))
                .put("EthernetInterfaces", link(system + "/EthernetInterfaces"))
                .put("Actions", new JsonObject().put("#ComputerSystem.Reset", new JsonObject()
                        .put("target", system + "/Actions/ComputerSystem.Reset")
                        .put("ResetType@Redfish.AllowableValues", new JsonArray(profile.resetTypes()))));
        if (profile.virtualMediaUnderSystem()) {
            s.put("VirtualMedia", link(virtualMedia));
        }
        if (!faults.missingPowerState) {
            s.put("PowerState", powerState);
        }
        Response r = Response.json(200, s);
        return profile.etags() ? r.header("ETag", etag()) : r;
    }

    private String etag() {
        return "W/\"" + etag + "\"";
    }

    private synchronized Response patchSystem(Map<String, String> headers, JsonObject body) {
        if (faults.concurrentWriter) {
            faults.concurrentWriter = false;
            etag++;
        }
        String ifMatch = header(headers, "If-Match");
        if (profile.etags() && ifMatch != null && !ifMatch.equals(etag()) && !ifMatch.equals("*")) {
            return error(412, "Base.1.8.PreconditionFailed", "the ETag " + ifMatch + " does not match the current " + etag());
        }
        JsonObject boot = body.getJsonObject("Boot");
        if (boot == null) {
            return error(400, "Base.1.8.PropertyUnknown", "only Boot can be changed here");
        }
        if (profile.bootModeReadOnly() && boot.containsKey("BootSourceOverrideMode")) {
            return error(400, "Base.1.8.PropertyNotWritable", "The property BootSourceOverrideMode is a read only property and cannot be "
                    + "assigned a value.");
        }
        if (profile.bootModeRequired() && boot.getString("BootSourceOverrideMode") == null) {
            return error(400, "Base.1.8.PropertyMissing", "BootSourceOverrideMode is required with BootSourceOverrideTarget");
        }
        String target = boot.getString("BootSourceOverrideTarget", bootTarget);
        if (!List.of("None", "Pxe", "Hdd", "Cd", "UefiHttp", "BiosSetup").contains(target)) {
            return error(400, "Base.1.8.PropertyValueNotInList", "BootSourceOverrideTarget " + target + " is not supported");
        }
        String enabled = boot.getString("BootSourceOverrideEnabled", bootEnabled);
        if (!List.of("Disabled", "Once", "Continuous").contains(enabled)) {
            return error(400, "Base.1.8.PropertyValueNotInList", "BootSourceOverrideEnabled " + enabled + " is not supported");
        }
        String mode = boot.getString("BootSourceOverrideMode", bootMode);
        if (!List.of("UEFI", "Legacy").contains(mode)) {
            return error(400, "Base.1.8.PropertyValueNotInList", "BootSourceOverrideMode " + mode + " is not supported");
        }
        bootTarget = target;
        bootEnabled = enabled;
        bootMode = mode;
        etag++;
        return systemResource();
    }

    private synchronized Response reset(JsonObject body) {
        String type = body.getString("ResetType");
        if (type == null || !profile.resetTypes().contains(type)) {
            return error(400, "Base.1.8.ActionParameterNotSupported", "ResetType " + type + " is not supported; allowed: "
                    + profile.resetTypes());
        }
        String before = powerState;
        switch (type) {
            case "On" -> powerState = "On";
            case "ForceOff", "GracefulShutdown" -> powerState = "Off";
            case "PushPowerButton" -> powerState = before.equals("On") ? "Off" : "On";
            case "ForceRestart", "GracefulRestart", "PowerCycle" -> powerState = "On";
            default -> {
            }
        }
        boolean booted = powerState.equals("On") && (before.equals("Off") || List.of("ForceRestart", "GracefulRestart", "PowerCycle").contains(type));
        if (booted) {
            boots++;
            lastBootTarget = bootEnabled.equals("Disabled") ? "None" : bootTarget;
            if (bootEnabled.equals("Once")) {
                bootEnabled = "Disabled";
                bootTarget = "None";
            }
        }
        etag++;
        return Response.empty(204);
    }

    private synchronized Response virtualMediaResource(String method, String body) {
        if (method.equals("GET")) {
            JsonObject vm = odata("#VirtualMedia.v1_3_0.VirtualMedia", virtualMedia + "/CD1").put("Id", "CD1").put("Name", "Virtual CD")
                    .put("MediaTypes", new JsonArray(List.of("CD", "DVD"))).put("Image", mediaInserted ? mediaImage : null)
                    .put("Inserted", mediaInserted).put("WriteProtected", true).put("ConnectedVia", mediaInserted ? "URI" : "NotConnected");
            if (profile.insertMediaAction()) {
                vm.put("Actions", new JsonObject()
                        .put("#VirtualMedia.InsertMedia", new JsonObject().put("target", virtualMedia + "/CD1/Actions/VirtualMedia.InsertMedia"))
                        .put("#VirtualMedia.EjectMedia", new JsonObject().put("target", virtualMedia + "/CD1/Actions/VirtualMedia.EjectMedia")));
            }
            return Response.json(200, vm);
        }
        if (method.equals("PATCH")) {
            JsonObject b = new JsonObject(body == null ? "{}" : body);
            if (b.containsKey("Image")) {
                mediaImage = b.getString("Image");
            }
            mediaInserted = b.getBoolean("Inserted", mediaImage != null);
            if (!mediaInserted) {
                mediaImage = null;
            }
            return Response.empty(204);
        }
        return error(405, "Base.1.8.OperationNotAllowed", method + " is not allowed on virtual media");
    }

    private synchronized Response virtualMediaAction(String action, String body) {
        if (!profile.insertMediaAction()) {
            return error(404, "Base.1.8.ResourceMissingAtURI", "action " + action + " does not exist");
        }
        if (action.equals("VirtualMedia.InsertMedia")) {
            String image = new JsonObject(body == null ? "{}" : body).getString("Image");
            if (image == null || !(image.startsWith("http://") || image.startsWith("https://"))) {
                return error(400, "Base.1.8.ActionParameterMissing", "Image must be an http(s) URI");
            }
            if (mediaInserted) {
                return error(409, "Base.1.8.ResourceInUse", "a medium is already inserted; eject it first");
            }
            mediaImage = image;
            mediaInserted = true;
            return Response.empty(204);
        }
        if (action.equals("VirtualMedia.EjectMedia")) {
            mediaImage = null;
            mediaInserted = false;
            return Response.empty(204);
        }
        return error(404, "Base.1.8.ResourceMissingAtURI", "action " + action + " does not exist");
    }

    private Response task(String id) {
        Long done = tasks.get(id);
        if (done == null) {
            return error(404, "Base.1.8.ResourceMissingAtURI", "task " + id + " does not exist");
        }
        boolean completed = System.currentTimeMillis() >= done;
        JsonObject t = odata("#Task.v1_4_3.Task", root + "/TaskService/Tasks/" + id).put("Id", id)
                .put("TaskState", completed ? "Completed" : "Running").put("TaskStatus", "OK")
                .put("PercentComplete", completed ? 100 : 50);
        return Response.json(completed ? 200 : 202, t);
    }

    private JsonObject inventory(String p) {
        if (p.equals(system + "/Processors")) {
            return collectionBody("ProcessorCollection", "Processors", p, p + "/CPU1", p + "/CPU2");
        }
        if (p.startsWith(system + "/Processors/CPU")) {
            String id = p.substring(p.lastIndexOf('/') + 1);
            return odata("#Processor.v1_7_0.Processor", p).put("Id", id).put("Socket", id).put("ProcessorType", "CPU")
                    .put("Manufacturer", "Intel(R) Corporation").put("Model", "Mock Xeon 4314").put("TotalCores", 16).put("TotalThreads", 32)
                    .put("MaxSpeedMHz", 3400);
        }
        if (p.equals(system + "/Memory")) {
            return collectionBody("MemoryCollection", "Memory", p, p + "/DIMM1", p + "/DIMM2", p + "/DIMM3", p + "/DIMM4");
        }
        if (p.startsWith(system + "/Memory/DIMM")) {
            String id = p.substring(p.lastIndexOf('/') + 1);
            return odata("#Memory.v1_10_0.Memory", p).put("Id", id).put("CapacityMiB", 32768).put("MemoryDeviceType", "DDR4")
                    .put("OperatingSpeedMhz", 3200).put("SerialNumber", String.format("MEM%06d%s", index, id));
        }
        if (p.equals(system + "/Storage")) {
            return collectionBody("StorageCollection", "Storage", p, p + "/1");
        }
        if (p.equals(system + "/Storage/1")) {
            return odata("#Storage.v1_9_0.Storage", p).put("Id", "1").put("Name", "Storage Controller")
                    .put("Drives", new JsonArray().add(link(p + "/Drives/Disk1")).add(link(p + "/Drives/Disk2")))
                    .put("Drives@odata.count", 2);
        }
        if (p.startsWith(system + "/Storage/1/Drives/Disk")) {
            String id = p.substring(p.lastIndexOf('/') + 1);
            int n = Integer.parseInt(id.substring(4));
            JsonObject d = odata("#Drive.v1_9_0.Drive", p).put("Id", id).put("Name", "Disk " + n)
                    .put("Model", n == 1 ? "MOCK NVMe 1.92TB" : "MOCK SATA 3.84TB").put("SerialNumber", driveSerial(n))
                    .put("CapacityBytes", n == 1 ? 1_920_383_410_176L : 3_840_755_982_336L)
                    .put("Protocol", n == 1 ? "NVMe" : "SATA").put("MediaType", "SSD");
            if (profile.secureErase()) {
                d.put("Actions", new JsonObject().put("#Drive.SecureErase", new JsonObject().put("target", p + "/Actions/Drive.SecureErase")));
            }
            return d;
        }
        if (p.equals(system + "/SimpleStorage")) {
            return collectionBody("SimpleStorageCollection", "Simple Storage", p, p + "/1");
        }
        if (p.equals(system + "/SimpleStorage/1")) {
            JsonArray devices = new JsonArray();
            for (int n = 1; n <= 2; n++) {
                devices.add(new JsonObject().put("Name", "Disk " + n).put("Model", n == 1 ? "MOCK NVMe 1.92TB" : "MOCK SATA 3.84TB")
                        .put("SerialNumber", driveSerial(n)).put("CapacityBytes", n == 1 ? 1_920_383_410_176L : 3_840_755_982_336L)
                        .put("Status", new JsonObject().put("State", "Enabled")));
            }
            return odata("#SimpleStorage.v1_3_0.SimpleStorage", p).put("Id", "1").put("Name", "Simple Storage Controller")
                    .put("Devices", devices);
        }
        if (p.equals(system + "/EthernetInterfaces")) {
            return collectionBody("EthernetInterfaceCollection", "Ethernet Interfaces", p, p + "/NIC1", p + "/NIC2");
        }
        if (p.startsWith(system + "/EthernetInterfaces/NIC")) {
            String id = p.substring(p.lastIndexOf('/') + 1);
            int n = Integer.parseInt(id.substring(3));
            return odata("#EthernetInterface.v1_6_0.EthernetInterface", p).put("Id", id).put("MACAddress", mac(n))
                    .put("PermanentMACAddress", mac(n)).put("SpeedMbps", 25000).put("LinkStatus", "LinkUp");
        }
        return null;
    }

    private Response login(String body) {
        JsonObject b;
        try {
            b = new JsonObject(body == null ? "{}" : body);
        } catch (DecodeException e) {
            return error(400, "Base.1.8.MalformedJSON", "the login body is not JSON");
        }
        if (!username.equals(b.getString("UserName")) || !password.equals(b.getString("Password"))) {
            return error(401, "Base.1.8.InsufficientPrivilege", "wrong user name or password");
        }
        if (faults.sessionsExhausted || sessionTokens.size() >= profile.sessionLimit()) {
            return error(profile.sessionLimitStatus(), "Base.1.8.SessionLimitExceeded", "the session limit of "
                    + profile.sessionLimit() + " is reached");
        }
        String id = String.valueOf(sessionCounter.incrementAndGet());
        String token = UUID.randomUUID().toString().replace("-", "");
        sessionTokens.put(token, id);
        return Response.json(201, odata("#Session.v1_3_0.Session", sessions + "/" + id).put("Id", id).put("UserName", username))
                .header("X-Auth-Token", token).header("Location", sessions + "/" + id);
    }

    /** The session id for a valid X-Auth-Token, "basic" for valid Basic credentials, else null. */
    private String authenticate(Map<String, String> headers) {
        if (faults.forgetSessions) {
            faults.forgetSessions = false;
            sessionTokens.clear();
        }
        String token = header(headers, "X-Auth-Token");
        if (token != null) {
            return sessionTokens.get(token);
        }
        String auth = header(headers, "Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6) && !faults.basicRefused) {
            String decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
            if (decoded.equals(username + ":" + password)) {
                return "basic";
            }
        }
        return null;
    }

    private static String header(Map<String, String> headers, String name) {
        for (var e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    private Response collection(String type, String name, String self, String... members) {
        return Response.json(200, collectionBody(type, name, self, members));
    }

    private static JsonObject collectionBody(String type, String name, String self, String... members) {
        JsonArray m = new JsonArray();
        for (String member : members) {
            m.add(link(member));
        }
        return odata("#" + type + "." + type, self).put("Name", name).put("Members", m).put("Members@odata.count", members.length);
    }

    private static JsonObject odata(String type, String id) {
        return new JsonObject().put("@odata.type", type).put("@odata.id", id);
    }

    private static JsonObject link(String id) {
        return new JsonObject().put("@odata.id", id);
    }

    static Response error(int status, String code, String message) {
        return Response.json(status, new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)
                .put("@Message.ExtendedInfo", new JsonArray().add(new JsonObject().put("MessageId", code).put("Message", message)
                        .put("Severity", "Warning")))));
    }
}
