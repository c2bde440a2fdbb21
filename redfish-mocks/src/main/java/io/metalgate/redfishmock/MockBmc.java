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
    private volatile Host host;
    private String bootTarget = "None";
    private String bootEnabled = "Disabled";
    private String bootMode = "UEFI";
    private String lastBootTarget = "None";
    private int boots;
    private int etag = 1;
    private final Map<String, String> media = new LinkedHashMap<>(); // slot -> image inserted (null = empty)
    private final Map<String, String> sessionTokens = new ConcurrentHashMap<>(); // token -> session id
    private final AtomicInteger sessionCounter = new AtomicInteger();
    private final Map<String, Long> tasks = new ConcurrentHashMap<>(); // task id -> completes at (ms)
    private final Map<String, Integer> erasedDrives = new ConcurrentHashMap<>();
    private final Map<String, String> initializedVolumes = new ConcurrentHashMap<>(); // volume id -> InitializeType
    /** The EventService's subscriptions and pushes. */
    public final Events events = new Events();
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
        profile.mediaSlots().forEach(slot -> media.put(slot, null));
    }

    public Profile profile() {
        return profile;
    }

    public synchronized String powerState() {
        return host != null ? (host.poweredOn() ? "On" : "Off") : powerState;
    }

    /** Puts a real machine (e.g. a {@link QemuHost}) behind this BMC: power actions and boots go to it. */
    public synchronized MockBmc attach(Host machine) {
        this.host = machine;
        return this;
    }

    /** The machine behind this BMC, or null when it is simulated in memory. */
    public Host host() {
        return host;
    }

    /** Sets the power state as if someone pressed the button (for drift tests). */
    public synchronized void setPowerState(String state) {
        String before = powerState();
        powerState = state;
        etag++;
        if (!before.equals(state)) {
            events.powerChanged(system, state);
        }
    }

    /** The boot source the last power-on or restart used ("None" = the normal boot order). */
    public synchronized String lastBootTarget() {
        return lastBootTarget;
    }

    public synchronized int boots() {
        return boots;
    }

    /** The image inserted in any virtual media slot, or null. */
    public synchronized String mediaImage() {
        return media.values().stream().filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    /** Slot → image, for every slot with an image inserted. */
    public synchronized Map<String, String> insertedMedia() {
        Map<String, String> m = new LinkedHashMap<>();
        media.forEach((slot, image) -> {
            if (image != null) {
                m.put(slot, image);
            }
        });
        return m;
    }

    public int openSessions() {
        return sessionTokens.size();
    }

    /** Logins this BMC accepted since it started (each opened a session). */
    public int sessionsCreated() {
        return sessionCounter.get();
    }

    public int requests() {
        return requests.get();
    }

    public Map<String, Integer> erasedDrives() {
        return Map.copyOf(erasedDrives);
    }

    /** Volume id → InitializeType of every Volume.Initialize received. */
    public Map<String, String> initializedVolumes() {
        return Map.copyOf(initializedVolumes);
    }

    /** Serial number of drive {@code n} (1-based) of this BMC. */
    public String driveSerial(int n) {
        return String.format("MOCK%06dD%d", index, n);
    }

    /** NIC {@code n}'s MAC: locally administered, random per BMC (two emulators of one test run never share a NIC). */
    public String mac(int n) {
        return String.format("52:%02x:%02x:%02x:%02x:%02x", macBase >>> 24, (macBase >>> 16) & 0xff, (macBase >>> 8) & 0xff, macBase & 0xff, n);
    }

    private final int macBase = java.util.concurrent.ThreadLocalRandom.current().nextInt();

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
            return collection("VirtualMediaCollection", "Virtual Media Services", virtualMedia,
                    profile.mediaSlots().stream().map(slot -> virtualMedia + "/" + slot).toArray(String[]::new));
        }
        if (p.startsWith(virtualMedia + "/")) {
            String rest = p.substring(virtualMedia.length() + 1);
            String slot = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
            if (media.containsKey(slot)) {
                if (rest.equals(slot)) {
                    return virtualMediaResource(slot, method, body);
                }
                if (rest.startsWith(slot + "/Actions/") && method.equals("POST")) {
                    return virtualMediaAction(slot, rest.substring((slot + "/Actions/").length()), body);
                }
            }
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
        if (profile.eventService() && p.startsWith(root + "/EventService")) {
            return eventService(method, p, body);
        }
        if (method.equals("POST") && profile.volumeInitialize() && p.startsWith(system + "/Storage/1/Volumes/")
                && p.endsWith("/Actions/Volume.Initialize")) {
            String volume = p.substring((system + "/Storage/1/Volumes/").length(), p.indexOf("/Actions/"));
            String type = new JsonObject(body == null ? "{}" : body).getString("InitializeType", "Fast");
            if (!List.of("1", "2").contains(volume)) {
                return error(404, "Base.1.8.ResourceMissingAtURI", p + " does not exist");
            }
            if (!List.of("Fast", "Slow").contains(type)) {
                return error(400, "Base.1.8.ActionParameterNotSupported", "InitializeType " + type + " is not supported");
            }
            initializedVolumes.put(volume, type);
            return startTask();
        }
        if (method.equals("POST") && p.startsWith(system + "/Storage/1/Drives/") && p.endsWith("/Actions/Drive.SecureErase")) {
            if (!profile.secureErase()) {
                return error(404, "Base.1.8.ResourceMissingAtURI", p + " does not exist");
            }
            String drive = p.substring((system + "/Storage/1/Drives/").length(), p.indexOf("/Actions/"));
            erasedDrives.merge(drive, 1, Integer::sum);
            return startTask();
        }
        return error(404, "Base.1.8.ResourceMissingAtURI", p + " does not exist");
    }

    /** A task that completes 300 ms from now, answered 202 with its monitor. */
    private synchronized Response startTask() {
        String taskId = String.valueOf(tasks.size() + 1);
        tasks.put(taskId, System.currentTimeMillis() + 300);
        return Response.json(202, odata("#Task.v1_4_3.Task", root + "/TaskService/Tasks/" + taskId).put("TaskState", "Running"))
                .header("Location", root + "/TaskService/Tasks/" + taskId);
    }

    private Response eventService(String method, String p, String body) {
        String subs = root + "/EventService/Subscriptions";
        if (p.equals(root + "/EventService") && method.equals("GET")) {
            return Response.json(200, odata("#EventService.v1_7_0.EventService", p).put("Id", "EventService").put("ServiceEnabled", true)
                    .put("DeliveryRetryAttempts", 3).put("EventTypesForSubscription", new JsonArray(List.of("StatusChange", "ResourceUpdated", "Alert")))
                    .put("RegistryPrefixes", new JsonArray(List.of("ResourceEvent", "Base")))
                    .put("Subscriptions", link(subs)));
        }
        if (p.equals(subs) && method.equals("GET")) {
            return collection("EventDestinationCollection", "Event Subscriptions", subs,
                    events.all().stream().map(s -> subs + "/" + s.id()).toArray(String[]::new));
        }
        if (p.equals(subs) && method.equals("POST")) {
            JsonObject b = new JsonObject(body == null ? "{}" : body);
            String destination = b.getString("Destination");
            if (destination == null || !(destination.startsWith("https://") || destination.startsWith("http://"))) {
                return error(400, "Base.1.8.PropertyMissing", "Destination must be an http(s) URI");
            }
            if (!"Redfish".equals(b.getString("Protocol", "Redfish"))) {
                return error(400, "Base.1.8.PropertyValueNotInList", "Protocol " + b.getString("Protocol") + " is not supported");
            }
            Events.Subscription s = events.subscribe(destination, b.getString("Context"));
            return Response.json(201, subscription(subs, s)).header("Location", subs + "/" + s.id());
        }
        if (p.startsWith(subs + "/")) {
            String id = p.substring(subs.length() + 1);
            Events.Subscription s = events.get(id);
            if (s == null) {
                return error(404, "Base.1.8.ResourceMissingAtURI", p + " does not exist");
            }
            if (method.equals("GET")) {
                return Response.json(200, subscription(subs, s));
            }
            if (method.equals("DELETE")) {
                events.remove(id);
                return Response.empty(204);
            }
        }
        return error(405, "Base.1.8.OperationNotAllowed", method + " is not allowed on " + p);
    }

    private static JsonObject subscription(String subs, Events.Subscription s) {
        return odata("#EventDestination.v1_10_0.EventDestination", subs + "/" + s.id()).put("Id", s.id()).put("Destination", s.destination())
                .put("Context", s.context()).put("Protocol", "Redfish").put("SubscriptionType", "RedfishEvent");
    }

    private JsonObject serviceRoot() {
        JsonObject r = odata("#ServiceRoot.v1_11_0.ServiceRoot", root).put("Id", "RootService").put("Name", "Root Service")
                .put("RedfishVersion", "1.11.0").put("UUID", uuid().toString()).put("Vendor", profile.vendor())
                .put("Product", profile.product()).put("Systems", link(root + "/Systems")).put("Managers", link(root + "/Managers"))
                .put("Chassis", link(root + "/Chassis")).put("SessionService", link(root + "/SessionService"))
                .put("EventService", profile.eventService() ? link(root + "/EventService") : null)
                .put("Links", new JsonObject().put("Sessions", link(sessions)));
        // vendors also announce themselves under Oem (iLO: Oem.Hpe, iDRAC: Oem.Dell) — older firmware has no Vendor property
        r.put("Oem", new JsonObject().put(profile.vendor().equals("HPE") ? "Hpe" : profile.vendor(), new JsonObject()));
        return r;
    }

    /**
     * The system's serial number: unique per emulated BMC, also across emulators and runs (a fleet has no two
     * servers with one serial, and the appliance takes manufacturer and serial as the hardware's identity).
     */
    private final String systemSerial = String.format("SN%010X", java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffffffffffL);

    private String serial() {
        return systemSerial;
    }

    /** The system's UUID (Redfish {@code UUID}; a QEMU host behind this BMC is given it as its SMBIOS UUID). */
    public UUID systemUuid() {
        return uuid();
    }

    private UUID uuid() {
        return UUID.nameUUIDFromBytes(("mock-bmc-" + systemSerial).getBytes(StandardCharsets.UTF_8));
    }

    private synchronized Response systemResource() {
        JsonObject boot = new JsonObject().put("BootSourceOverrideTarget", bootTarget).put("BootSourceOverrideEnabled", bootEnabled)
                .put("BootSourceOverrideMode", bootMode)
                .put("BootSourceOverrideTarget@Redfish.AllowableValues", new JsonArray(List.of("None", "Pxe", "Hdd", "Cd", "UefiHttp", "BiosSetup")));
        JsonObject s = odata("#ComputerSystem.v1_13_0.ComputerSystem", system).put("Id", profile.systemId()).put("Name", "System")
                .put("SystemType", "Physical").put("Manufacturer", profile.vendor()).put("Model", profile.product())
                .put("SerialNumber", serial()).put("UUID", faults.noSystemUuid ? "00000000-0000-0000-0000-000000000000" : uuid().toString())
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
            s.put("PowerState", powerState());
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
        String before = powerState();
        // OEM names some BMCs use instead of the standard ones (a profile lists them when it emulates such a BMC)
        boolean restart = List.of("ForceRestart", "GracefulRestart", "PowerCycle", "OemPowerCycle").contains(type);
        boolean on = switch (type) {
            case "On" -> true;
            case "ForceOff", "GracefulShutdown", "PowerOffNonGraceful" -> false;
            case "PushPowerButton" -> !before.equals("On");
            case "ForceRestart", "GracefulRestart", "PowerCycle", "OemPowerCycle" -> true;
            default -> before.equals("On");
        };
        boolean booted = on && (before.equals("Off") || restart);
        // the boot source of this boot: the override if one is set; a Once override is used up by it
        String target = booted && !bootEnabled.equals("Disabled") ? bootTarget : "None";
        if (booted) {
            boots++;
            lastBootTarget = target;
            if (bootEnabled.equals("Once")) {
                bootEnabled = "Disabled";
                bootTarget = "None";
            }
        }
        if (host != null) {
            try {
                if (restart) {
                    host.forceRestart(target);
                } else if (booted) {
                    host.powerOn(target);
                } else if (type.equals("ForceOff") || type.equals("PowerOffNonGraceful")) {
                    host.forceOff();
                } else if (!on) {
                    host.gracefulShutdown(); // the OS decides; the PowerState shows whether it did
                }
            } catch (RuntimeException e) {
                return error(500, "Base.1.8.InternalError", "the machine did not follow: " + e.getMessage());
            }
        } else {
            powerState = on ? "On" : "Off";
        }
        etag++;
        String after = powerState();
        if (!after.equals(before)) {
            events.powerChanged(system, after);
        }
        return Response.empty(204);
    }

    private synchronized Response virtualMediaResource(String slot, String method, String body) {
        String self = virtualMedia + "/" + slot;
        String image = media.get(slot);
        if (method.equals("GET")) {
            JsonObject vm = odata("#VirtualMedia.v1_3_0.VirtualMedia", self).put("Id", slot).put("Name", "Virtual media " + slot)
                    .put("MediaTypes", new JsonArray(slot.equals("RemovableDisk") ? List.of("USBStick") : List.of("CD", "DVD")))
                    .put("Image", image).put("Inserted", image != null).put("WriteProtected", true)
                    .put("ConnectedVia", image != null ? "URI" : "NotConnected");
            if (profile.insertMediaAction()) {
                vm.put("Actions", new JsonObject()
                        .put("#VirtualMedia.InsertMedia", new JsonObject().put("target", self + "/Actions/VirtualMedia.InsertMedia"))
                        .put("#VirtualMedia.EjectMedia", new JsonObject().put("target", self + "/Actions/VirtualMedia.EjectMedia")));
            }
            return Response.json(200, vm);
        }
        if (method.equals("PATCH")) {
            JsonObject b = new JsonObject(body == null ? "{}" : body);
            if (profile.patchNeedsInserted() && !b.containsKey("Inserted")) {
                return error(400, "Base.1.8.PropertyMissing", "The property Inserted is a required property and must be included in the request.");
            }
            String newImage = b.containsKey("Image") ? b.getString("Image") : image;
            boolean inserted = b.getBoolean("Inserted", newImage != null);
            if (inserted && uploadOnly(slot)) {
                return error(400, "Base.1.8.ActionNotSupported", "slot " + slot + " mounts only uploaded images; use an EXT slot");
            }
            media.put(slot, inserted ? newImage : null);
            return Response.empty(204);
        }
        return error(405, "Base.1.8.OperationNotAllowed", method + " is not allowed on virtual media");
    }

    private static boolean uploadOnly(String slot) {
        return slot.startsWith("RDOC") || slot.startsWith("Remote");
    }

    private synchronized Response virtualMediaAction(String slot, String action, String body) {
        if (!profile.insertMediaAction()) {
            return error(404, "Base.1.8.ResourceMissingAtURI", "action " + action + " does not exist");
        }
        if (action.equals("VirtualMedia.InsertMedia")) {
            String image = new JsonObject(body == null ? "{}" : body).getString("Image");
            if (image == null || !(image.startsWith("http://") || image.startsWith("https://"))) {
                return error(400, "Base.1.8.ActionParameterMissing", "Image must be an http(s) URI");
            }
            if (media.get(slot) != null) {
                return error(409, "Base.1.8.ResourceInUse", "a medium is already inserted; eject it first");
            }
            if (slot.equals("RemovableDisk")) {
                return error(400, "Base.1.8.ActionParameterValueFormatError", "RemovableDisk takes USB stick images, not ISOs");
            }
            media.put(slot, image);
            return Response.empty(204);
        }
        if (action.equals("VirtualMedia.EjectMedia")) {
            media.put(slot, null);
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
                    .put("Drives@odata.count", 2).put("Volumes", profile.volumeInitialize() ? link(p + "/Volumes") : null);
        }
        if (profile.volumeInitialize() && p.equals(system + "/Storage/1/Volumes")) {
            return collectionBody("VolumeCollection", "Volumes", p, p + "/1", p + "/2");
        }
        if (profile.volumeInitialize() && (p.equals(system + "/Storage/1/Volumes/1") || p.equals(system + "/Storage/1/Volumes/2"))) {
            int n = Integer.parseInt(p.substring(p.length() - 1));
            return odata("#Volume.v1_6_0.Volume", p).put("Id", String.valueOf(n)).put("Name", "Virtual Disk " + n).put("RAIDType", "RAID0")
                    .put("CapacityBytes", n == 1 ? 1_920_383_410_176L : 3_840_755_982_336L)
                    .put("Links", new JsonObject().put("Drives", new JsonArray().add(link(system + "/Storage/1/Drives/Disk" + n))))
                    .put("Actions", new JsonObject().put("#Volume.Initialize", new JsonObject().put("target", p + "/Actions/Volume.Initialize")
                            .put("InitializeType@Redfish.AllowableValues", new JsonArray(List.of("Fast", "Slow")))));
        }
        if (p.startsWith(system + "/Storage/1/Drives/Disk")) {
            String id = p.substring(p.lastIndexOf('/') + 1);
            int n = Integer.parseInt(id.substring(4));
            JsonObject d = odata("#Drive.v1_9_0.Drive", p).put("Id", id).put("Name", "Disk " + n)
                    .put("Model", n == 1 ? "MOCK NVMe 1.92TB" : "MOCK SATA 3.84TB").put("SerialNumber", faults.driveSerialsMissing ? null : driveSerial(n))
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
            if (faults.rejectTokenOnce && sessionTokens.containsKey(token)) {
                faults.rejectTokenOnce = false; // refused, but the session stays open (as a BMC that lost track would)
                return null;
            }
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
