package io.metalgate.appliance;

import io.metalgate.common.PageView;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Types Jackson reads or writes by reflection that Quarkus cannot find by itself in a native image:
 * generic page contents, records nested in responses, and bodies parsed outside JAX-RS (Camel routes).
 * It names types of every capability, so it belongs to the appliance that assembles them.
 */
@RegisterForReflection(targets = {
        PageView.class,
        io.metalgate.machine.MachineApi.MachineView.class, io.metalgate.machine.MachineApi.BmcView.class,
        io.metalgate.machine.MachineApi.Enrollment.class, io.metalgate.machine.MachineApi.BmcSpec.class,
        io.metalgate.machine.MachineApi.Update.class, io.metalgate.machine.MachineApi.BmcPatch.class,
        io.metalgate.machine.MachineApi.BmcOptions.class, io.metalgate.machine.MachineApi.IpmiPrivilege.class,
        io.metalgate.machine.MachineApi.PowerActionName.class,
        io.metalgate.lease.LeaseApi.TenantView.class, io.metalgate.lease.LeaseApi.LeaseView.class,
        io.metalgate.lease.LeaseApi.LeasedMachine.class,
        io.metalgate.evidence.AuditResource.AuditEntryView.class, io.metalgate.evidence.AuditResource.AuditPage.class,
        io.metalgate.evidence.AuditResource.SigningKeyView.class, io.metalgate.evidence.AuditResource.KeyHistoryView.class,
        io.metalgate.evidence.AuditResource.RotationRequest.class, io.metalgate.evidence.AuditWitnesses.Delivery.class,
        io.metalgate.integration.LeaseEvent.class, io.metalgate.integration.LeaseEvent.Type.class,
        // read and written by our own ObjectMapper (stored field maps), not only by REST (issue 14)
        io.metalgate.integration.FieldMap.class, io.metalgate.integration.FieldMap.Meaning.class, io.metalgate.integration.IntakeResult.class, io.metalgate.integration.IntakeResult.Outcome.class,
        io.metalgate.integration.Integrations.View.class, io.metalgate.integration.Integrations.Kind.class,
        io.metalgate.integration.Integrations.Scheme.class, io.metalgate.integration.DeadLetters.View.class,
        io.metalgate.integration.DeadLetters.Page.class, io.metalgate.integration.DeadLetters.Replay.class,
        io.metalgate.integration.IntegrationResource.Create.class, io.metalgate.integration.IntegrationResource.Update.class,
        io.metalgate.integration.IntegrationResource.Rotate.class, io.metalgate.integration.IntegrationResource.Created.class,
        io.metalgate.lease.HoldService.HoldView.class, io.metalgate.lease.NoticeService.NoticeView.class,
        io.metalgate.lease.NoticeService.AttemptView.class,
        io.metalgate.conductor.GateResource.Explanation.class, io.metalgate.gate.Decision.class, io.metalgate.gate.Decision.Reason.class,
        io.metalgate.gate.Facts.class, io.metalgate.gate.Facts.MachineFacts.class, io.metalgate.gate.Facts.CertificateFact.class,
        io.metalgate.gate.Facts.LeaseFacts.class, io.metalgate.gate.Facts.HoldFact.class, io.metalgate.gate.Facts.NoticeFact.class,
        io.metalgate.gate.Facts.AttemptFact.class, io.metalgate.gate.Facts.RequestFacts.class, io.metalgate.gate.Facts.ApprovalFact.class,
        io.metalgate.gate.Facts.BulkFacts.class, io.metalgate.gate.Facts.TenantRequestFact.class,
        io.metalgate.gate.Facts.MachineState.class, io.metalgate.gate.Facts.LeaseState.class,
        io.metalgate.conductor.TenantRequests.View.class, io.metalgate.conductor.TenantRequests.RecordBody.class,
        io.metalgate.conductor.LifecycleResource.Row.class, io.metalgate.conductor.LifecycleResource.Tables.class,
        io.metalgate.conductor.BulkPlans.Execution.class, io.metalgate.conductor.BulkPlans.Status.class,
        io.metalgate.conductor.Approvals.RequestView.class, io.metalgate.conductor.Approvals.ApprovalView.class,
        io.metalgate.conductor.ActionService.ActionResult.class,
        io.metalgate.conductor.DiscoveryResource.DiscoveredSystem.class, io.metalgate.conductor.DiscoveryResource.Discovery.class,
        io.metalgate.evidence.TenantEvidence.Report.class, io.metalgate.evidence.TenantEvidence.Item.class,
        io.metalgate.conductor.BulkPlans.Plan.class, io.metalgate.conductor.BulkPlans.MachineDecision.class,
        io.metalgate.conductor.BulkPlans.BlastRadius.class, io.metalgate.conductor.BulkPlans.TenantRadius.class,
        io.metalgate.conductor.BulkPlans.Selector.class, io.metalgate.conductor.BulkPlans.MachineQuery.class,
        io.metalgate.conductor.BulkPlans.Outcome.class, io.metalgate.conductor.BulkResource.SelectorBody.class,
        io.metalgate.conductor.BulkResource.QueryBody.class, io.metalgate.conductor.BulkResource.PlanBody.class,
        io.metalgate.machine.MachineApi.PowerView.class,
        io.metalgate.driver.api.Inventory.class, io.metalgate.driver.api.Inventory.Processor.class,
        io.metalgate.driver.api.Inventory.MemoryModule.class, io.metalgate.driver.api.Inventory.Disk.class,
        io.metalgate.driver.api.Inventory.Nic.class, io.metalgate.driver.api.Inventory.Volume.class,
        io.metalgate.conductor.PowerSyncResource.SweepSummary.class,
        io.metalgate.conductor.EraseReports.Certificate.class, io.metalgate.conductor.EraseReports.KeyLink.class,
        io.metalgate.conductor.EraseReports.HandOverProof.class })
public final class NativeReflection {

    private NativeReflection() {
    }
}
