package io.metalgate.driver.redfish;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.DriverException.Kind;
import io.metalgate.driver.api.Interfaces;
import io.metalgate.driver.api.Inventory;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hardware interfaces over Redfish (DSP0266, schemas of DSP8010). Paths are discovered from the
 * service root and collections, never assumed (a Dell system is System.Embedded.1, an HPE one is 1). The
 * quirks handled (docs/bmc-quirks.md): reset types taken from {@code ResetType@Redfish.AllowableValues}
 * with fallbacks; boot overrides always with their mode, conditional on the ETag where one is given and
 * re-read on 412; virtual media by action where offered, by PATCH otherwise, under the System or the
 * Manager; session tables that refuse logins (the client falls back to Basic).
 */
@ApplicationScoped
public class RedfishDriver implements Interfaces.Driver, Interfaces.PowerEvents {

    /** Attempts of a conditional PATCH that loses to another writer (412) before giving up. */
    static final int PRECONDITION_ATTEMPTS = 3;
    static final Duration TASK_POLL = Duration.ofMillis(200);
    static final Duration TASK_LIMIT = Duration.ofMinutes(30);

    @Inject
    RedfishClient client;

    private final Map<String, String> systemUris = new ConcurrentHashMap<>();

    @Override
    public String protocol() {
        return "REDFISH";
    }

    /** The BMC family of this endpoint, from its service root. */
    public Uni<VendorProfile> vendor(BmcEndpoint bmc) {
        return client.serviceRoot(bmc).map(VendorProfile::detect);
    }

    @Override
    public Uni<Void> release(BmcEndpoint bmc) {
        systemUris.remove(bmc.key());
        return client.release(bmc);
    }

    // ---------------------------------------------------------------- power

    @Override
    public Uni<PowerState> powerState(BmcEndpoint bmc) {
        return system(bmc).map(s -> powerStateOf(bmc, s.body()));
    }

    /**
     * The ComputerSystem's UUID, as {@code system-uuid:<uuid>} (the namespace IPMI's system GUID is claimed in too): what the hardware says it is, whichever address
     * or system id named it (a single-system BMC's system is the same server with or without its id). Empty when
     * the BMC reports none, or zeros.
     */
    @Override
    public Uni<Optional<String>> hardwareId(BmcEndpoint bmc) {
        return system(bmc).map(s -> systemUuid(s.body()));
    }

    /** The system's UUID as {@code system-uuid:…}; empty when it reports none, or a placeholder. */
    static Optional<String> systemUuid(JsonObject system) {
        String uuid = system.getString("UUID");
        if (uuid == null) {
            return Optional.empty();
        }
        String u = uuid.strip().toLowerCase(java.util.Locale.ROOT);
        if (!u.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}") || u.replaceAll("[0-]", "").isEmpty()
                || u.replace("-", "").chars().allMatch(c -> c == 'f')) {
            return Optional.empty(); // not a UUID, or a placeholder
        }
        return Optional.of("system-uuid:" + u);
    }

    /**
     * The system UUID when the BMC reports a real one, and always the system itself at this BMC address
     * ({@code redfish-system:host:port/Id}): a machine enrolled without a system id and one naming its only system
     * ({@code bmc.options.systemId}) are two records of one server, which the UUID alone cannot tell when the BMC
     * reports none. One read of the system for both.
     */
    @Override
    public Uni<List<String>> hardwareIds(BmcEndpoint bmc) {
        return system(bmc).map(s -> {
            List<String> ids = new ArrayList<>();
            systemUuid(s.body()).ifPresent(ids::add);
            String id = s.body().getString("Id");
            if (id == null || id.isBlank()) {
                String odata = s.body().getString("@odata.id");
                id = odata == null ? null : lastSegment(odata);
            }
            if (id != null && !id.isBlank()) {
                ids.add("redfish-system:" + bmc.host().toLowerCase(java.util.Locale.ROOT) + ":" + bmc.port() + "/" + id.strip());
            }
            return List.copyOf(ids);
        });
    }

    static PowerState powerStateOf(BmcEndpoint bmc, JsonObject system) {
        Object state = system.getValue("PowerState");
        if (state == null) {
            throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": the ComputerSystem has no PowerState");
        }
        return switch (String.valueOf(state)) {
            case "On", "PoweringOn", "Paused" -> PowerState.ON;
            case "Off", "PoweringOff" -> PowerState.OFF;
            default -> throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": unknown PowerState " + state);
        };
    }

    @Override
    public Uni<Void> setPower(BmcEndpoint bmc, PowerAction action) {
        return system(bmc).chain(s -> {
            JsonObject reset = Optional.ofNullable(s.body().getJsonObject("Actions")).map(a -> a.getJsonObject("#ComputerSystem.Reset"))
                    .orElseThrow(() -> new DriverException(Kind.UNSUPPORTED, bmc + ": the ComputerSystem offers no #ComputerSystem.Reset"));
            String target = reset.getString("target");
            if (target == null) {
                throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": #ComputerSystem.Reset has no target");
            }
            JsonArray allowed = reset.getJsonArray("ResetType@Redfish.AllowableValues");
            PowerState now = powerStateOf(bmc, s.body());
            List<?> offered = allowed == null ? null : allowed.getList();
            String override = bmc.options().resetTypes().get(action);
            List<String> steps;
            if (override != null) {
                // the machine says what this BMC calls it; still only what the BMC offers
                if (offered != null && !offered.contains(override)) {
                    throw new DriverException(Kind.UNSUPPORTED, bmc + ": the machine's reset type for " + action + " is " + override
                            + ", which the BMC does not offer (" + allowed + ")");
                }
                steps = List.of(override);
            } else {
                steps = resetSteps(action, now, offered);
                if (steps.isEmpty() && offered != null) {
                    steps = RESET_SYNONYMS.getOrDefault(action, List.of()).stream().filter(offered::contains).limit(1).toList();
                }
            }
            if (steps.isEmpty()) {
                throw new DriverException(Kind.UNSUPPORTED, bmc + ": none of the reset types for " + action + " is offered (" + allowed
                        + "); name the BMC's own in bmc.options.resetTypes." + action);
            }
            Uni<Void> chain = Uni.createFrom().voidItem();
            for (String step : steps) {
                chain = chain.chain(() -> client.post(bmc, target, new JsonObject().put("ResetType", step)).chain(r -> awaitTask(bmc, r)));
            }
            return chain;
        });
    }

    /**
     * Non-standard ResetType names seen in the field for a single-step action, tried only when no standard
     * name is offered (the standard set is DSP8010's; docs/bmc-quirks.md): {@code PowerOffNonGraceful} is a
     * forced off, {@code FullPowerCycle} a cycle, {@code ForceOn} an on.
     */
    static final Map<PowerAction, List<String>> RESET_SYNONYMS = Map.of(
            PowerAction.OFF, List.of("PowerOffNonGraceful", "PowerOff"),
            PowerAction.ON, List.of("ForceOn", "PowerOn"),
            PowerAction.GRACEFUL_OFF, List.of("GracefulPowerOff", "PowerOffGraceful"),
            PowerAction.CYCLE, List.of("FullPowerCycle"),
            PowerAction.RESET, List.of("HardReset", "Reset"));

    /**
     * The reset types that carry out {@code action}, in order, given what the BMC allows ({@code null}: it
     * does not say, so the standard one is tried). Without PowerCycle (iLO), a cycle is ForceOff then On.
     */
    static List<String> resetSteps(PowerAction action, PowerState now, List<?> allowed) {
        java.util.function.Predicate<String> ok = t -> allowed == null || allowed.contains(t);
        return switch (action) {
            case ON -> ok.test("On") ? List.of("On") : ok.test("PushPowerButton") && now == PowerState.OFF ? List.of("PushPowerButton") : List.of();
            case OFF -> ok.test("ForceOff") ? List.of("ForceOff") : List.of();
            case GRACEFUL_OFF -> ok.test("GracefulShutdown") ? List.of("GracefulShutdown") : List.of();
            case RESET -> ok.test("ForceRestart") ? List.of("ForceRestart") : ok.test("GracefulRestart") ? List.of("GracefulRestart")
                    : ok.test("ForceOff") && ok.test("On") ? List.of("ForceOff", "On") : List.of();
            case CYCLE -> now == PowerState.OFF ? (ok.test("On") ? List.of("On") : List.of())
                    : ok.test("PowerCycle") ? List.of("PowerCycle")
                    : ok.test("ForceOff") && ok.test("On") ? List.of("ForceOff", "On") : List.of();
        };
    }

    // ---------------------------------------------------------------- management

    @Override
    public Uni<Void> setBootDevice(BmcEndpoint bmc, BootOverride o) {
        JsonObject boot = new JsonObject().put("BootSourceOverrideTarget", switch (o.device()) {
            case NONE -> "None";
            case PXE -> "Pxe";
            case DISK -> "Hdd";
            case CD -> "Cd";
            case UEFI_HTTP -> "UefiHttp";
        }).put("BootSourceOverrideEnabled", o.device() == BootOverride.Device.NONE ? "Disabled" : o.persistent() ? "Continuous" : "Once");
        JsonObject withMode = boot.copy().put("BootSourceOverrideMode", o.mode() == BootOverride.Mode.UEFI ? "UEFI" : "Legacy");
        // Supermicro refuses a target without its mode, some iLOs refuse the mode (read only): send what
        // the vendor takes first, and the other form if the BMC names the mode in a 400 (docs/bmc-quirks.md 3, 11)
        return vendor(bmc).chain(v -> {
            boolean modeFirst = v != VendorProfile.ILO;
            JsonObject first = modeFirst ? withMode : boot;
            JsonObject second = modeFirst ? boot : withMode;
            return patchSystem(bmc, new JsonObject().put("Boot", first), PRECONDITION_ATTEMPTS)
                    .onFailure(f -> f instanceof DriverException d && d.status() == 400 && d.getMessage().contains("BootSourceOverrideMode"))
                    .recoverWithUni(f -> patchSystem(bmc, new JsonObject().put("Boot", second), PRECONDITION_ATTEMPTS));
        });
    }

    private Uni<Void> patchSystem(BmcEndpoint bmc, JsonObject body, int attemptsLeft) {
        return system(bmc).chain(s -> client.patch(bmc, s.body().getString("@odata.id"), body, s.header("ETag")).replaceWithVoid()
                .onFailure(f -> f instanceof DriverException d && d.status() == 412).recoverWithUni(f -> {
                    if (attemptsLeft <= 1) {
                        return Uni.createFrom().failure(new DriverException(Kind.CONFLICT, 412, bmc + ": the system kept changing under "
                                + "the boot override (412 Precondition Failed " + PRECONDITION_ATTEMPTS + " times)", f));
                    }
                    return patchSystem(bmc, body, attemptsLeft - 1); // re-read: new ETag, then try again
                }));
    }

    @Override
    public Uni<BootOverride> bootDevice(BmcEndpoint bmc) {
        return system(bmc).map(s -> {
            JsonObject boot = s.body().getJsonObject("Boot");
            if (boot == null) {
                throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": the ComputerSystem has no Boot");
            }
            String enabled = boot.getString("BootSourceOverrideEnabled", "Disabled");
            BootOverride.Device device = enabled.equals("Disabled") ? BootOverride.Device.NONE : switch (boot.getString("BootSourceOverrideTarget", "None")) {
                case "Pxe" -> BootOverride.Device.PXE;
                case "Hdd" -> BootOverride.Device.DISK;
                case "Cd" -> BootOverride.Device.CD;
                case "UefiHttp" -> BootOverride.Device.UEFI_HTTP;
                default -> BootOverride.Device.NONE;
            };
            return new BootOverride(device, enabled.equals("Continuous"),
                    "Legacy".equals(boot.getString("BootSourceOverrideMode")) ? BootOverride.Mode.LEGACY : BootOverride.Mode.UEFI);
        });
    }

    // ---------------------------------------------------------------- virtual media

    @Override
    public Uni<Void> insert(BmcEndpoint bmc, String imageUrl) {
        return vendor(bmc).chain(vendor -> cdDrives(bmc).map(all -> all.stream()
                .filter(vm -> !vm.getBoolean("Inserted", vm.getString("Image") != null))
                // XCC: RDOC and Remote slots take only uploaded images and the remote console's; URIs go to EXT slots
                .filter(vm -> vendor != VendorProfile.XCC || !(vm.getString("Id", "").startsWith("RDOC") || vm.getString("Id", "").startsWith("Remote")))
                .findFirst().orElseThrow(() -> new DriverException(Kind.CONFLICT, bmc + ": every virtual CD slot is in use; eject first"))))
                .chain(vm -> {
                    JsonObject action = Optional.ofNullable(vm.getJsonObject("Actions")).map(a -> a.getJsonObject("#VirtualMedia.InsertMedia")).orElse(null);
                    if (action != null && action.getString("target") != null) {
                        return client.post(bmc, action.getString("target"), new JsonObject().put("Image", imageUrl).put("Inserted", true)
                                .put("WriteProtected", true)).chain(r -> awaitTask(bmc, r));
                    }
                    // no InsertMedia action (Supermicro, XCC): set the properties instead; XCC refuses a PATCH without Inserted
                    return client.patch(bmc, vm.getString("@odata.id"), new JsonObject().put("Image", imageUrl).put("Inserted", true),
                            Optional.empty()).replaceWithVoid();
                });
    }

    @Override
    public Uni<Void> eject(BmcEndpoint bmc) {
        return cdDrives(bmc).chain(all -> {
            List<Uni<Void>> ejects = new ArrayList<>();
            for (JsonObject vm : all) {
                if (!vm.getBoolean("Inserted", vm.getString("Image") != null)) {
                    continue;
                }
                JsonObject action = Optional.ofNullable(vm.getJsonObject("Actions")).map(a -> a.getJsonObject("#VirtualMedia.EjectMedia")).orElse(null);
                ejects.add(action != null && action.getString("target") != null
                        ? client.post(bmc, action.getString("target"), new JsonObject()).chain(r -> awaitTask(bmc, r))
                        : client.patch(bmc, vm.getString("@odata.id"), new JsonObject().putNull("Image").put("Inserted", false), Optional.empty())
                                .replaceWithVoid());
            }
            return ejects.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(ejects).andFailFast().replaceWithVoid();
        });
    }

    /** Every virtual media device that takes CDs or DVDs, under the System (newer iDRAC) or the Managers. */
    private Uni<List<JsonObject>> cdDrives(BmcEndpoint bmc) {
        return system(bmc).chain(s -> {
            String underSystem = link(s.body(), "VirtualMedia");
            if (underSystem != null) {
                return cdIn(bmc, underSystem);
            }
            return client.serviceRoot(bmc).chain(root -> members(bmc, required(bmc, root, "Managers")))
                    .chain(managers -> Multi.createFrom().iterable(managers).onItem().transformToUniAndConcatenate(m -> client.get(bmc, m)
                            .chain(mr -> {
                                String vm = link(mr.body(), "VirtualMedia");
                                return vm == null ? Uni.createFrom().item(List.<JsonObject>of()) : cdIn(bmc, vm);
                            })).collect().asList())
                    .map(lists -> lists.stream().flatMap(List::stream).toList());
        }).invoke(all -> {
            if (all.isEmpty()) {
                throw new DriverException(Kind.UNSUPPORTED, bmc + ": no virtual media that takes a CD");
            }
        });
    }

    private Uni<List<JsonObject>> cdIn(BmcEndpoint bmc, String collection) {
        return members(bmc, collection).chain(ids -> Multi.createFrom().iterable(ids).onItem()
                .transformToUniAndConcatenate(id -> client.get(bmc, id)).map(RedfishClient.Reply::body)
                .filter(vm -> {
                    JsonArray types = vm.getJsonArray("MediaTypes", new JsonArray());
                    return types.contains("CD") || types.contains("DVD");
                }).collect().asList());
    }

    // ---------------------------------------------------------------- inspect

    @Override
    public Uni<Inventory> inspect(BmcEndpoint bmc) {
        return system(bmc).chain(s -> {
            JsonObject sys = s.body();
            Uni<List<Inventory.Processor>> cpus = each(bmc, link(sys, "Processors"), p -> p).map(list -> list.stream()
                    .filter(RedfishDriver::installed)
                    .map(p -> new Inventory.Processor(p.getString("Id"), processorType(p), p.getString("Model"), integer(p, "TotalCores"),
                            integer(p, "TotalThreads")))
                    .toList());
            Uni<List<Inventory.MemoryModule>> memory = each(bmc, link(sys, "Memory"), m -> m).map(list -> list.stream()
                    .filter(RedfishDriver::installed)
                    .filter(m -> hasStatus(m) || m.getValue("CapacityMiB") != null || m.getString("SerialNumber") != null)
                    .map(m -> new Inventory.MemoryModule(m.getString("Id"), positiveLong(m, "CapacityMiB"), memoryType(m),
                            m.getString("SerialNumber")))
                    .toList());
            Uni<List<Inventory.Nic>> nics = each(bmc, link(sys, "EthernetInterfaces"), n -> n).map(list -> list.stream()
                    .filter(RedfishDriver::installed)
                    // a VLAN repeats its parent's MAC; the host interface to the BMC is not a NIC of the machine
                    .filter(n -> !"Virtual".equals(n.getString("EthernetInterfaceType")))
                    .filter(n -> n.getJsonObject("Links", new JsonObject()).getValue("HostInterface") == null)
                    .filter(n -> n.getString("PermanentMACAddress") != null || n.getString("MACAddress") != null)
                    .map(n -> new Inventory.Nic(n.getString("Id"), Optional.ofNullable(n.getString("PermanentMACAddress"))
                            .orElse(n.getString("MACAddress")), integer(n, "SpeedMbps")))
                    .toList());
            return Uni.combine().all().unis(cpus, memory, storage(bmc, sys), nics).asTuple().map(t -> new Inventory(
                    sys.getString("Manufacturer"), sys.getString("Model"), sys.getString("SerialNumber"), t.getItem1(), t.getItem2(),
                    t.getItem3().disks(), t.getItem4(), t.getItem3().volumes()));
        });
    }

    /**
     * Present hardware: a component whose Status.State is Absent (an empty socket, slot or bay) is not
     * inventory, nor a Disabled processor or module (the firmware took it out of service). Drives are
     * judged apart ({@link #presentDrive}): a disabled drive still holds data.
     */
    static boolean installed(JsonObject c) {
        String state = state(c);
        return !"Absent".equals(state) && !"Disabled".equals(state);
    }

    static boolean presentDrive(JsonObject d) {
        return !"Absent".equals(state(d));
    }

    private static String state(JsonObject c) {
        JsonObject status = c.getJsonObject("Status");
        return status == null ? null : status.getString("State");
    }

    private static boolean hasStatus(JsonObject c) {
        return c.getJsonObject("Status") != null;
    }

    /** Redfish ProcessorType; a processor that names none is a CPU (schemas before 1.x named only CPUs). */
    static String processorType(JsonObject p) {
        String type = p.getString("ProcessorType");
        return type == null ? "CPU" : type;
    }

    private static String memoryType(JsonObject m) {
        return m.getString("MemoryDeviceType") != null ? m.getString("MemoryDeviceType") : m.getString("MemoryType");
    }

    private static Integer integer(JsonObject o, String field) {
        Object v = o.getValue(field);
        return v instanceof Number n && n.longValue() > 0 ? Integer.valueOf(n.intValue()) : null;
    }

    /** A size: a positive number, or null when the BMC says nothing, null or 0 (unknown, never "0 bytes"). */
    private static Long positiveLong(JsonObject o, String field) {
        Object v = o.getValue(field);
        return v instanceof Number n && n.longValue() > 0 ? Long.valueOf(n.longValue()) : null;
    }

    /** The drives and volumes of a system. */
    record Storage(List<Inventory.Disk> disks, List<Inventory.Volume> volumes) {
    }

    /**
     * Every present drive once: from each Storage's {@code Drives}, the system's chassis' drives (Links.Drives
     * or a Drives collection), and SimpleStorage devices that none of those already names (older BMCs list
     * drives only there). Deduplicated by resource and by serial number. Volumes (RAID volumes, NVMe
     * namespaces) are listed apart: a namespace is not a drive.
     */
    private Uni<Storage> storage(BmcEndpoint bmc, JsonObject sys) {
        Uni<List<JsonObject>> storages = members(bmc, link(sys, "Storage")).chain(ids -> getAll(bmc, ids));
        return storages.chain(st -> {
            java.util.LinkedHashSet<String> driveIds = new java.util.LinkedHashSet<>();
            List<String> volumeCollections = new ArrayList<>();
            boolean nvme = false;
            for (JsonObject s : st) {
                JsonArray drives = s.getJsonArray("Drives", new JsonArray());
                for (int i = 0; i < drives.size(); i++) {
                    driveIds.add(normalise(drives.getJsonObject(i).getString("@odata.id")));
                }
                String volumes = link(s, "Volumes");
                if (volumes != null) {
                    volumeCollections.add(volumes);
                }
            }
            return chassisDriveIds(bmc, sys).chain(chassisDrives -> {
                driveIds.addAll(chassisDrives);
                return getAll(bmc, List.copyOf(driveIds));
            }).chain(drives -> volumes(bmc, volumeCollections, driveVolumeIds(drives)).chain(volumes -> simpleStorageDisks(bmc, sys).map(simple -> {
                List<Inventory.Disk> disks = new ArrayList<>();
                java.util.Set<String> serials = new java.util.HashSet<>();
                for (JsonObject d : drives) {
                    if (!presentDrive(d)) {
                        continue;
                    }
                    String serial = d.getString("SerialNumber");
                    if (serial != null && !serial.isBlank() && !serials.add(serial)) {
                        continue; // the same drive reached through another link
                    }
                    disks.add(new Inventory.Disk(d.getString("Id"), d.getString("Model"), serial, positiveLong(d, "CapacityBytes"),
                            d.getString("Protocol"), d.getString("MediaType"), state(d)));
                }
                // a SimpleStorage device is a drive already listed when a drive resource has its serial (or, with no
                // serial, its model and size); two devices alike are two drives (bays of the same model)
                List<Inventory.Disk> resources = List.copyOf(disks);
                for (Inventory.Disk d : simple) {
                    boolean known = d.serialNumber() != null ? serials.contains(d.serialNumber())
                            : resources.stream().anyMatch(x -> java.util.Objects.equals(x.model(), d.model())
                                    && java.util.Objects.equals(x.capacityBytes(), d.capacityBytes()));
                    if (!known) {
                        disks.add(d);
                    }
                }
                return new Storage(List.copyOf(disks), volumes);
            })));
        });
    }

    /** The drives the system's chassis link: Links.Drives, or the chassis' Drives collection. */
    private Uni<List<String>> chassisDriveIds(BmcEndpoint bmc, JsonObject sys) {
        JsonArray chassis = sys.getJsonObject("Links", new JsonObject()).getJsonArray("Chassis", new JsonArray());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < chassis.size(); i++) {
            ids.add(chassis.getJsonObject(i).getString("@odata.id"));
        }
        return getAll(bmc, ids).chain(list -> {
            List<String> drives = new ArrayList<>();
            List<Uni<List<String>>> collections = new ArrayList<>();
            for (JsonObject c : list) {
                JsonArray linked = c.getJsonObject("Links", new JsonObject()).getJsonArray("Drives", new JsonArray());
                for (int i = 0; i < linked.size(); i++) {
                    drives.add(normalise(linked.getJsonObject(i).getString("@odata.id")));
                }
                String collection = link(c, "Drives");
                if (collection != null) {
                    collections.add(members(bmc, collection));
                }
            }
            if (collections.isEmpty()) {
                return Uni.createFrom().item(drives);
            }
            return Uni.join().all(collections).andFailFast().map(lists -> {
                lists.forEach(l -> l.forEach(id -> drives.add(normalise(id))));
                return drives;
            });
        }).onFailure(f -> f instanceof DriverException d && d.status() == 404).recoverWithItem(List.of());
    }

    /** The volumes (namespaces) the drives link, wherever their Storage is (an NVMe-oF JBOF keeps it at the root). */
    private static List<String> driveVolumeIds(List<JsonObject> drives) {
        List<String> ids = new ArrayList<>();
        for (JsonObject d : drives) {
            JsonArray v = d.getJsonObject("Links", new JsonObject()).getJsonArray("Volumes", new JsonArray());
            for (int i = 0; i < v.size(); i++) {
                ids.add(normalise(v.getJsonObject(i).getString("@odata.id")));
            }
        }
        return ids;
    }

    private Uni<List<Inventory.Volume>> volumes(BmcEndpoint bmc, List<String> collections, List<String> linked) {
        return Multi.createFrom().iterable(collections).onItem().transformToUniAndConcatenate(c -> members(bmc, c)
                .onFailure(f -> f instanceof DriverException d && d.status() == 404).recoverWithItem(List.of()))
                .collect().asList()
                .chain(lists -> {
                    java.util.LinkedHashSet<String> ids = new java.util.LinkedHashSet<>();
                    lists.forEach(l -> l.forEach(id -> ids.add(normalise(id))));
                    ids.addAll(linked);
                    return getAll(bmc, List.copyOf(ids));
                })
                .map(vs -> vs.stream().filter(v -> !"Absent".equals(state(v))).map(v -> new Inventory.Volume(v.getString("Id"),
                        positiveLong(v, "CapacityBytes"), v.getJsonObject("NVMeNamespaceProperties") != null
                                || "NVMeNamespace".equals(v.getString("VolumeType")))).toList());
    }

    /** SimpleStorage devices (older BMCs): inline, without their own resources. */
    private Uni<List<Inventory.Disk>> simpleStorageDisks(BmcEndpoint bmc, JsonObject sys) {
        return members(bmc, link(sys, "SimpleStorage")).chain(ids -> getAll(bmc, ids)).map(replies -> {
            List<Inventory.Disk> out = new ArrayList<>();
            for (JsonObject r : replies) {
                JsonArray devices = r.getJsonArray("Devices", new JsonArray());
                for (int i = 0; i < devices.size(); i++) {
                    JsonObject d = devices.getJsonObject(i);
                    if (!presentDrive(d)) {
                        continue;
                    }
                    out.add(new Inventory.Disk(r.getString("Id") + "/" + i, d.getString("Model"), d.getString("SerialNumber"),
                            positiveLong(d, "CapacityBytes"), null, null, state(d)));
                }
            }
            return out;
        });
    }

    private Uni<List<JsonObject>> getAll(BmcEndpoint bmc, List<String> ids) {
        return Multi.createFrom().iterable(ids).onItem().transformToUniAndConcatenate(id -> client.get(bmc, id))
                .map(RedfishClient.Reply::body).collect().asList();
    }

    private static String normalise(String odataId) {
        return odataId != null && odataId.endsWith("/") ? odataId.substring(0, odataId.length() - 1) : odataId;
    }

    /** Every Drive resource of every Storage of the system. */
    private Uni<List<JsonObject>> drives(BmcEndpoint bmc, JsonObject sys) {
        return members(bmc, link(sys, "Storage")).chain(storages -> Multi.createFrom().iterable(storages)
                .onItem().transformToUniAndConcatenate(st -> client.get(bmc, st)).collect().asList())
                .chain(storages -> {
                    List<String> driveIds = new ArrayList<>();
                    for (var st : storages) {
                        JsonArray drives = st.body().getJsonArray("Drives", new JsonArray());
                        for (int i = 0; i < drives.size(); i++) {
                            driveIds.add(drives.getJsonObject(i).getString("@odata.id"));
                        }
                    }
                    return Multi.createFrom().iterable(driveIds).onItem().transformToUniAndConcatenate(id -> client.get(bmc, id))
                            .map(RedfishClient.Reply::body).collect().asList();
                });
    }

    // ---------------------------------------------------------------- erase

    /**
     * Drive.SecureErase on every drive that offers it (a sanitize of the device: NIST SP 800-88 Purge where
     * the drive implements it so); where no drive does, Volume.Initialize (Slow where offered: every block
     * overwritten, a Clear of the logical volume) on every volume that offers it; UNSUPPORTED otherwise.
     */
    @Override
    public Uni<List<Interfaces.DiskErase>> secureErase(BmcEndpoint bmc) {
        return system(bmc).chain(s -> {
            if (link(s.body(), "Storage") == null) {
                return Uni.createFrom().failure(new DriverException(Kind.UNSUPPORTED, bmc + ": no Storage; the erase agent must do it"));
            }
            return drives(bmc, s.body()).chain(drives -> {
                List<JsonObject> erasable = drives.stream().filter(d -> d.getJsonObject("Actions", new JsonObject())
                        .getJsonObject("#Drive.SecureErase") != null).toList();
                if (!erasable.isEmpty()) {
                    return Multi.createFrom().iterable(erasable).onItem().transformToUniAndConcatenate(d -> client.post(bmc,
                                    d.getJsonObject("Actions").getJsonObject("#Drive.SecureErase").getString("target"), new JsonObject())
                                    .chain(r -> taskResult(bmc, r))
                                    .map(result -> new Interfaces.DiskErase(d.getString("Id"), d.getString("SerialNumber"), "Drive.SecureErase", result)))
                            .collect().asList();
                }
                return initializeVolumes(bmc, s.body(), drives);
            });
        });
    }

    private Uni<List<Interfaces.DiskErase>> initializeVolumes(BmcEndpoint bmc, JsonObject sys, List<JsonObject> drives) {
        Map<String, String> serials = new java.util.HashMap<>();
        drives.forEach(d -> serials.put(d.getString("@odata.id"), d.getString("SerialNumber")));
        return members(bmc, link(sys, "Storage"))
                .chain(storages -> Multi.createFrom().iterable(storages).onItem().transformToUniAndConcatenate(st -> client.get(bmc, st)
                        .chain(sr -> members(bmc, link(sr.body(), "Volumes")))).collect().asList())
                .chain(lists -> Multi.createFrom().iterable(lists.stream().flatMap(List::stream).toList()).onItem()
                        .transformToUniAndConcatenate(v -> client.get(bmc, v)).map(RedfishClient.Reply::body)
                        .filter(v -> v.getJsonObject("Actions", new JsonObject()).getJsonObject("#Volume.Initialize") != null).collect().asList())
                .chain(volumes -> {
                    if (volumes.isEmpty()) {
                        return Uni.createFrom().failure(new DriverException(Kind.UNSUPPORTED,
                                bmc + ": no drive offers #Drive.SecureErase and no volume #Volume.Initialize; the erase agent must do it"));
                    }
                    return Multi.createFrom().iterable(volumes).onItem().transformToUniAndConcatenate(v -> {
                        JsonObject action = v.getJsonObject("Actions").getJsonObject("#Volume.Initialize");
                        JsonArray allowed = action.getJsonArray("InitializeType@Redfish.AllowableValues", new JsonArray());
                        String type = allowed.isEmpty() || allowed.contains("Slow") ? "Slow" : allowed.getString(0);
                        List<String> disks = new ArrayList<>();
                        JsonArray linked = v.getJsonObject("Links", new JsonObject()).getJsonArray("Drives", new JsonArray());
                        for (int i = 0; i < linked.size(); i++) {
                            disks.add(serials.getOrDefault(linked.getJsonObject(i).getString("@odata.id"), "?"));
                        }
                        return client.post(bmc, action.getString("target"), new JsonObject().put("InitializeType", type))
                                .chain(r -> taskResult(bmc, r))
                                .map(result -> new Interfaces.DiskErase("volume:" + v.getString("Id"), String.join(",", disks),
                                        "Volume.Initialize(" + type + ")", result));
                    }).collect().asList();
                });
    }

    // ---------------------------------------------------------------- events

    /**
     * Subscribes {@code destination} to this BMC's events (DMTF EventDestination, Redfish protocol) with
     * {@code context} echoed in every event; empty when the BMC has no enabled EventService (poll it instead).
     * Returns the subscription's URI.
     */
    @Override
    public Uni<Optional<String>> subscribe(BmcEndpoint bmc, String destination, String context) {
        return client.serviceRoot(bmc).chain(root -> {
            String es = link(root, "EventService");
            if (es == null) {
                return Uni.createFrom().item(Optional.<String>empty());
            }
            return client.get(bmc, es).chain(r -> {
                String subs = link(r.body(), "Subscriptions");
                if (!r.body().getBoolean("ServiceEnabled", true) || subs == null) {
                    return Uni.createFrom().item(Optional.<String>empty());
                }
                return client.post(bmc, subs, new JsonObject().put("Destination", destination).put("Protocol", "Redfish")
                        .put("Context", context).put("EventFormatType", "Event"))
                        .map(created -> Optional.of(created.header("Location").map(RedfishClient::pathOf).orElseThrow(() -> new DriverException(Kind.MALFORMED_RESPONSE,
                                bmc + ": subscription created without a Location"))));
            });
        });
    }

    // ---------------------------------------------------------------- helpers

    /** Waits for an action's task monitor when the BMC answered 202 with one; fails if the task did not complete. */
    private Uni<Void> awaitTask(BmcEndpoint bmc, RedfishClient.Reply r) {
        return taskResult(bmc, r).map(result -> {
            if (!result.equals("Completed")) {
                throw new DriverException(Kind.BMC_ERROR, bmc + ": the BMC's task ended " + result);
            }
            return null;
        });
    }

    /** "Completed" for a synchronous answer; otherwise the final TaskState of the task monitor, polled. */
    private Uni<String> taskResult(BmcEndpoint bmc, RedfishClient.Reply r) {
        if (r.status() != 202) {
            return Uni.createFrom().item("Completed");
        }
        String monitor = r.header("Location").orElseThrow(() -> new DriverException(Kind.MALFORMED_RESPONSE,
                bmc + ": 202 Accepted without a Location to poll"));
        long deadline = System.nanoTime() + TASK_LIMIT.toNanos();
        return poll(bmc, monitor, deadline);
    }

    private Uni<String> poll(BmcEndpoint bmc, String monitor, long deadline) {
        return Uni.createFrom().voidItem().onItem().delayIt().by(TASK_POLL).chain(() -> client.get(bmc, monitor)).chain(t -> {
            String state = t.body().getString("TaskState", t.status() == 200 ? "Completed" : "Running");
            boolean done = t.status() != 202 && !List.of("New", "Starting", "Running", "Pending", "Stopping", "Suspended").contains(state);
            if (done) {
                return Uni.createFrom().item(state);
            }
            if (System.nanoTime() - deadline > 0) {
                return Uni.createFrom().failure(new DriverException(Kind.TIMEOUT, bmc + ": task " + monitor + " still " + state + " after "
                        + TASK_LIMIT.toMinutes() + " min"));
            }
            return poll(bmc, monitor, deadline);
        });
    }

    /** The one ComputerSystem, found through the Systems collection (cached per BMC), read now. */
    /**
     * The machine's ComputerSystem: the one the BMC manages, or — a BMC that manages several (blades, a
     * multi-node chassis) — the one named by the machine's {@code systemId}. Several and none named is an
     * error naming them: guessing would power off another tenant's blade.
     */
    private Uni<RedfishClient.Reply> system(BmcEndpoint bmc) {
        Optional<String> wanted = bmc.options().systemId();
        String cacheKey = bmc.key() + wanted.map(w -> "#" + w).orElse("");
        String cached = systemUris.get(cacheKey);
        Uni<String> uri = cached != null ? Uni.createFrom().item(cached)
                : client.serviceRoot(bmc).chain(root -> members(bmc, required(bmc, root, "Systems"))).map(ids -> {
                    String chosen = chooseSystem(bmc, ids, wanted);
                    systemUris.put(cacheKey, chosen);
                    return chosen;
                });
        return uri.chain(u -> client.get(bmc, u)).invoke(r -> requireType(bmc, r.body(), "ComputerSystem"));
    }

    static String chooseSystem(BmcEndpoint bmc, List<String> ids, Optional<String> wanted) {
        if (ids.isEmpty()) {
            throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": the Systems collection is empty");
        }
        if (wanted.isPresent()) {
            return ids.stream().filter(id -> lastSegment(id).equals(wanted.get())).findFirst()
                    .orElseThrow(() -> new DriverException(Kind.UNSUPPORTED, bmc + ": the BMC manages no system " + wanted.get()
                            + " (it manages " + ids.stream().map(RedfishDriver::lastSegment).toList() + ")"));
        }
        if (ids.size() > 1) {
            throw new DriverException(Kind.UNSUPPORTED, bmc + ": the BMC manages " + ids.size() + " systems "
                    + ids.stream().map(RedfishDriver::lastSegment).toList() + "; enrol one machine per system with bmc.options.systemId "
                    + "(POST /api/bmc-discovery lists them)");
        }
        return ids.get(0);
    }

    static String lastSegment(String odataId) {
        String s = odataId.endsWith("/") ? odataId.substring(0, odataId.length() - 1) : odataId;
        return s.substring(s.lastIndexOf('/') + 1);
    }

    /** A system a BMC manages, as discovery lists it. */
    public record SystemSummary(String systemId, String odataId, String manufacturer, String model, String serialNumber, String uuid,
            String powerState) {
    }

    /** Every system the BMC manages (one machine each). */
    public Uni<List<SystemSummary>> systems(BmcEndpoint bmc) {
        return client.serviceRoot(bmc).chain(root -> members(bmc, required(bmc, root, "Systems")))
                .chain(ids -> Multi.createFrom().iterable(ids).onItem().transformToUniAndConcatenate(id -> client.get(bmc, id)
                        .map(r -> new SystemSummary(lastSegment(id), id, r.body().getString("Manufacturer"), r.body().getString("Model"),
                                r.body().getString("SerialNumber"), r.body().getString("UUID"),
                                r.body().getValue("PowerState") == null ? null : String.valueOf(r.body().getValue("PowerState")))))
                        .collect().asList());
    }

    /** Refuses a resource of another type or of a major schema version we do not know (v1 is all there is). */
    static void requireType(BmcEndpoint bmc, JsonObject body, String type) {
        String t = body.getString("@odata.type");
        if (t == null) {
            throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": the " + type + " has no @odata.type");
        }
        if (!t.startsWith("#" + type + ".")) {
            throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": expected a " + type + ", got " + t);
        }
        if (!t.startsWith("#" + type + ".v1_") && !t.equals("#" + type + "." + type)) {
            throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": unknown schema version " + t + " (metalgate reads v1_x)");
        }
    }

    private Uni<List<String>> members(BmcEndpoint bmc, String collection) {
        if (collection == null) {
            return Uni.createFrom().item(List.of());
        }
        return client.get(bmc, collection).map(r -> {
            JsonArray m = r.body().getJsonArray("Members");
            if (m == null) {
                throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": " + collection + " has no Members");
            }
            List<String> ids = new ArrayList<>(m.size());
            for (int i = 0; i < m.size(); i++) {
                ids.add(m.getJsonObject(i).getString("@odata.id"));
            }
            return ids;
        });
    }

    private <T> Uni<List<T>> each(BmcEndpoint bmc, String collection, java.util.function.Function<JsonObject, T> map) {
        return members(bmc, collection).chain(ids -> Multi.createFrom().iterable(ids).onItem()
                .transformToUniAndConcatenate(id -> client.get(bmc, id)).map(r -> map.apply(r.body())).collect().asList());
    }

    private static String link(JsonObject o, String name) {
        JsonObject l = o.getJsonObject(name);
        return l == null ? null : l.getString("@odata.id");
    }

    private static String required(BmcEndpoint bmc, JsonObject root, String name) {
        String l = link(root, name);
        if (l == null) {
            throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": the service root has no " + name);
        }
        return l;
    }
}
