package io.metalgate.common;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Types Jackson reads or writes by reflection that Quarkus cannot find by itself in a native image:
 * generic page contents, records nested in responses, and bodies parsed outside JAX-RS (Camel routes).
 */
@RegisterForReflection(targets = {
        PageView.class,
        io.metalgate.machine.MachineApi.MachineView.class, io.metalgate.machine.MachineApi.BmcView.class,
        io.metalgate.machine.MachineApi.Enrollment.class, io.metalgate.machine.MachineApi.BmcSpec.class,
        io.metalgate.machine.MachineApi.Update.class, io.metalgate.machine.MachineApi.BmcPatch.class,
        io.metalgate.lease.LeaseApi.TenantView.class, io.metalgate.lease.LeaseApi.LeaseView.class,
        io.metalgate.lease.LeaseApi.LeasedMachine.class,
        io.metalgate.evidence.AuditResource.AuditEntryView.class, io.metalgate.evidence.AuditResource.AuditPage.class,
        io.metalgate.integration.LeaseEvent.class, io.metalgate.integration.LeaseEvent.Type.class })
public final class NativeReflection {

    private NativeReflection() {
    }
}
