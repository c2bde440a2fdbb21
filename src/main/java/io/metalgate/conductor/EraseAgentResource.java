package io.metalgate.conductor;

import io.metalgate.boot.BootService;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.driver.api.Inventory;
import io.metalgate.gate.Action;
import io.metalgate.gate.Decision;
import io.metalgate.gate.Gate;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code POST /api/agent/task}: the erase agent of an ERASING machine asks what to do, with the one-time token its
 * boot script gave it — at boot, and again before each disk. Each time the gate decides again, under the machine's
 * lock, on the facts of that moment ({@link Action#ERASE_CONTINUE}: a hold placed while the machine booted stops
 * the erase), and the decision is audited with its facts. Refused: the answer is "no task" with the reasons, the
 * token is spent and the machine ERASE_FAILED (nothing more is erased; what was is in the audit log).
 */
@Path("/api/agent")
@Tag(name = "boot")
public class EraseAgentResource {

    public record TaskRequest(@NotBlank @Size(max = 100) String token, @Size(max = 200) String nextDisk) {
    }

    /** A disk the agent is to erase (what inspection found; the certificate must cover every one). */
    public record DiskTask(String id, String serialNumber, String model, Long capacityBytes) {
    }

    /**
     * ERASE with the disks, or NONE with why; and the appliance's clock ({@code applianceEpochSeconds}), which the agent
     * reports its times by (a machine's clock may be hours off: an RTC kept in local time, a flat battery).
     */
    public record Task(String task, UUID machineId, List<DiskTask> disks, List<Decision.Reason> reasons, long applianceEpochSeconds) {

        public Task(String task, UUID machineId, List<DiskTask> disks, List<Decision.Reason> reasons) {
            this(task, machineId, disks, reasons, Instant.now().getEpochSecond());
        }
    }

    @Inject
    Pool pool;
    @Inject
    MachineTasks tasks;
    @Inject
    GateFacts gateFacts;
    @Inject
    BootService boot;
    @Inject
    Inspection inspection;
    @Inject
    ActionService actions;

    private record Asked(UUID machine, Decision decision) {
    }

    @POST
    @Path("task")
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The erase agent's task, decided again by the gate now (ERASE with the disks, or NONE with every reason)")
    public Uni<Task> task(@jakarta.validation.Valid @jakarta.validation.constraints.NotNull TaskRequest body,
            @jakarta.ws.rs.core.Context io.vertx.core.http.HttpServerRequest request) {
        Instant now = Instant.now();
        String ip = caller(request);
        // the token names the machine; it is checked again under the machine's lock
        return machineOf(pool, boot, body.token(), ip, now).chain(machine -> {
            String actor = "agent:" + machine;
            return tasks.withLock(machine, m -> lockedToken(boot, m, body.token(), ip, now).chain(token -> {
                if (body.nextDisk() != null && !body.nextDisk().isBlank() && !token.hardwareConfirmed()) {
                    // no disk is erased before the agent showed it runs on this machine's hardware
                    return Uni.createFrom().failure(ApiException.conflict("the agent has not shown it runs on machine " + machine
                            + "'s hardware: POST /api/agent/disks first", "nextDisk"));
                }
                return gateFacts.forAction(m.tx(), machine, Action.ERASE_CONTINUE, actor, now, Optional.empty()).chain(facts -> {
                    Decision d = Gate.decide(Action.ERASE_CONTINUE, facts, gateFacts.policy(), now);
                    Map<String, Object> context = new LinkedHashMap<>();
                    context.put("nextDisk", body.nextDisk());
                    Uni<Void> audited = actions.auditDecision(m.tx(), actor, machine, d, facts, now, context);
                    if (d.allowed()) {
                        return audited.replaceWith(new Asked(machine, d));
                    }
                    Uni<Void> stopped = m.state() == LifecycleState.ERASING
                            ? tasks.fire(m, MachineLifecycle.Event.ERASE_FAILED, actor, "refused when the agent asked for its task: "
                                    + d.reasons().stream().map(r -> r.code().name()).toList()).replaceWithVoid()
                            : Uni.createFrom().voidItem();
                    return audited.chain(() -> boot.spend(m.tx(), body.token(), now)).chain(() -> stopped).replaceWith(new Asked(machine, d));
                });
            }));
        }).chain(asked -> {
            if (!asked.decision().allowed()) {
                return Uni.createFrom().item(new Task("NONE", asked.machine(), List.of(), asked.decision().reasons()));
            }
            return inspection.stored(asked.machine()).map(inv -> new Task("ERASE", asked.machine(), inv.map(EraseAgentResource::disks)
                    .orElse(List.of()), List.of()));
        });
    }

    /** What the agent found of one disk, to be told its technique. */
    public record TechniqueRequest(@NotBlank @Size(max = 100) String token, @jakarta.validation.constraints.NotNull @jakarta.validation.Valid DiskInfo disk) {
    }

    /**
     * What the agent found of one disk: the tools' outputs as printed ({@code sgOpcodes}: {@code sg_opcodes};
     * {@code sgReadcap}: {@code sg_readcap -l}; {@code sgVpdLbpv}: {@code sg_vpd -p lbpv}, for SCSI disks; {@code hdparmN}:
     * {@code hdparm -N}, {@code dcoIdentify}: {@code hdparm --dco-identify}, for ATA disks: their hidden areas; {@code nvmeListNs}:
     * {@code nvme list-ns} of an NVMe disk's controller: its namespaces).
     */
    public record DiskInfo(@NotBlank @Size(max = 200) String serialNumber, @Size(max = 20) String transport, @Size(max = 100_000) String nvmeIdCtrl,
            @Size(max = 100_000) String hdparmI, Boolean scsiSanitize, Boolean discardZeroes, Boolean discardSupported,
            @Size(max = 2_000) String scsiSanitizeSupport, @Size(max = 100_000) String sgOpcodes, @Size(max = 10_000) String sgReadcap,
            @Size(max = 10_000) String sgVpdLbpv, @Size(max = 10_000) String hdparmN, @Size(max = 20_000) String dcoIdentify,
            @Size(max = 100_000) String nvmeListNs) {
    }

    /**
     * The technique for a disk (empty: the disk fails), why, how much to read back, and what to do first ({@code prepare}:
     * steps separated by spaces, {@code SET_MAX:N} or {@code DCO_RESTORE}: the drive's hidden areas opened, {@link
     * io.metalgate.erase.HiddenAreas}).
     */
    public record TechniqueAnswer(String technique, String tool, String method, boolean weakerThanPolicy, List<String> notes, int verifySampleBlocks,
            String prepare) {
    }

    @Inject
    EraseReports reports;
    @Inject
    io.metalgate.common.MetalgateConfig config;

    @POST
    @Path("technique")
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The technique for one disk of the agent's machine, chosen by the appliance's policy from what the drive reports")
    public Uni<TechniqueAnswer> technique(@jakarta.validation.Valid @jakarta.validation.constraints.NotNull TechniqueRequest body,
            @jakarta.ws.rs.core.Context io.vertx.core.http.HttpServerRequest request) {
        Instant now = Instant.now();
        return machineOf(pool, boot, body.token(), caller(request), now).chain(machine -> inspection.stored(machine)).map(inv -> {
            if (inv.isEmpty()) {
                throw ApiException.conflict("the machine was never inspected: no disk can be matched", "machine");
            }
            var d = body.disk();
            var choice = reports.technique(inv.get(), d.serialNumber(), new io.metalgate.erase.Techniques.DiskFacts(d.transport(), d.nvmeIdCtrl(),
                    d.hdparmI(), Boolean.TRUE.equals(d.scsiSanitize()), Boolean.TRUE.equals(d.discardZeroes()),
                    Boolean.TRUE.equals(d.discardSupported()), d.scsiSanitizeSupport(), d.sgOpcodes(), d.sgReadcap(), d.sgVpdLbpv()));
            if (choice.technique().isEmpty()) {
                return new Chosen(choice, "");
            }
            if ("NVME".equalsIgnoreCase(d.transport())) {
                // a namespace-scoped technique must not leave another namespace or unallocated capacity behind
                var ns = io.metalgate.erase.NvmeNamespaces.check(choice.technique().get(), d.nvmeIdCtrl(), d.nvmeListNs());
                List<String> notes = new java.util.ArrayList<>(choice.notes());
                notes.addAll(ns.notes());
                ns.refusal().ifPresent(notes::add);
                return new Chosen(new io.metalgate.erase.Techniques.Choice(ns.refusal().isPresent() ? java.util.Optional.empty() : choice.technique(),
                        ns.refusal().isEmpty() && choice.weakerThanPolicy(), notes), "");
            }
            if (!"ATA".equalsIgnoreCase(d.transport())) {
                return new Chosen(choice, "");
            }
            // an ATA drive's hidden areas (HPA, DCO) are opened before the erase, or the disk fails: none is left behind
            var hidden = io.metalgate.erase.HiddenAreas.plan(d.hdparmN(), d.dcoIdentify(), config.erase().restoreDco());
            List<String> notes = new java.util.ArrayList<>(choice.notes());
            notes.addAll(hidden.notes());
            if (hidden.refusal().isPresent()) {
                notes.add(hidden.refusal().get());
                return new Chosen(new io.metalgate.erase.Techniques.Choice(java.util.Optional.empty(), false, notes), "");
            }
            return new Chosen(new io.metalgate.erase.Techniques.Choice(choice.technique(), choice.weakerThanPolicy(), notes),
                    String.join(" ", hidden.steps()));
        }).call(chosen -> pool.withTransaction(tx -> boot.recordChoice(tx, body.token(), body.disk().serialNumber(),
                chosen.choice().technique().map(Enum::name).orElse("NONE"), now))).map(chosen -> {
            var choice = chosen.choice();
            return new TechniqueAnswer(choice.technique().map(Enum::name).orElse(null), choice.technique().map(t -> t.tool).orElse(null),
                    choice.technique().map(t -> t.method.name()).orElse(null), choice.weakerThanPolicy(), choice.notes(),
                    config.erase().verifySampleBlocks(), chosen.prepare());
        });
    }

    private record Chosen(io.metalgate.erase.Techniques.Choice choice, String prepare) {
    }

    public record ReportRequest(@NotBlank @Size(max = 100) String token, @jakarta.validation.constraints.NotNull
            @Size(max = 256) List<EraseReports.DiskReport> disks) {
    }

    @POST
    @Path("report")
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The agent's final report: accepted (every inventory disk erased with its technique and verified) issues the signed "
            + "certificate and the machine is ERASED; otherwise refused with every reason and the machine is ERASE_FAILED")
    public Uni<EraseReports.Outcome> report(@jakarta.validation.Valid @jakarta.validation.constraints.NotNull ReportRequest body,
            @jakarta.ws.rs.core.Context io.vertx.core.http.HttpServerRequest request) {
        return reports.report(body.token(), caller(request), new EraseReports.Report(body.disks()));
    }

    public record ProgressRequest(@NotBlank @Size(max = 100) String token, @NotBlank @Size(max = 200) String serialNumber,
            @NotBlank @jakarta.validation.constraints.Pattern(regexp = "[A-Z_]{1,32}") String phase,
            @jakarta.validation.constraints.Min(0) @jakarta.validation.constraints.Max(100) int percent, @Size(max = 1000) String detail) {
    }

    @POST
    @Path("progress")
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "The agent's progress on one disk (phase ERASING, VERIFYING, …; percent): shown at GET /api/machines/{id}/erase")
    public Uni<jakarta.ws.rs.core.Response> progress(@jakarta.validation.Valid @jakarta.validation.constraints.NotNull ProgressRequest body,
            @jakarta.ws.rs.core.Context io.vertx.core.http.HttpServerRequest request) {
        Instant now = Instant.now();
        return machineOf(pool, boot, body.token(), caller(request), now).chain(machine -> pool.preparedQuery("INSERT INTO erase_progress (machine_id, serial_number, "
                + "phase, percent, detail, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (machine_id, serial_number) DO UPDATE SET "
                + "phase = EXCLUDED.phase, percent = EXCLUDED.percent, detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at")
                .execute(io.vertx.mutiny.sqlclient.Tuple.from(java.util.Arrays.asList(machine, body.serialNumber(), body.phase(), body.percent(),
                        body.detail(), now.atOffset(java.time.ZoneOffset.UTC)))))
                .replaceWith(jakarta.ws.rs.core.Response.noContent().build());
    }

    /** The address the agent called from (the connection's; a forwarding header is not believed). */
    static String caller(io.vertx.core.http.HttpServerRequest request) {
        return request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    }

    /** The machine a usable token names (401 otherwise). */
    static Uni<UUID> machineOf(Pool pool, BootService boot, String token, String ip, Instant now) {
        return pool.withTransaction(tx -> boot.require(tx, token, ip, now)).map(BootService.Token::machineId);
    }

    /** The token checked again under the machine's lock: still usable, and this machine's. */
    static Uni<BootService.Token> lockedToken(BootService boot, MachineTasks.Locked m, String token, String ip, Instant now) {
        return boot.require(m.tx(), token, ip, now).map(t -> {
            if (!t.machineId().equals(m.id())) {
                throw new ApiException(Problem.of(401, "agent-token", "Unknown, expired or spent token", "the token is another machine's"));
            }
            return t;
        });
    }

    static List<DiskTask> disks(Inventory inv) {
        return inv.disks().stream().map(d -> new DiskTask(d.id(), d.serialNumber(), d.model(), d.capacityBytes())).toList();
    }
}
