-- The BMC operations an operator asks for through the conductor (issue 12, point 6): power on, graceful off,
-- cycle and reset, boot overrides, virtual media. Each is an intent like a power-off; its parameters (the boot
-- override, the image URL, the If-Match the caller gave) are kept with it.
ALTER TABLE bmc_intent DROP CONSTRAINT bmc_intent_operation_check;
ALTER TABLE bmc_intent ADD CONSTRAINT bmc_intent_operation_check CHECK (operation IN ('POWER_OFF', 'POWER_ON', 'GRACEFUL_OFF',
    'POWER_CYCLE', 'RESET', 'SET_BOOT', 'MEDIA_INSERT', 'MEDIA_EJECT'));
ALTER TABLE bmc_intent ADD COLUMN params text;

-- A tenant may ask for its machine to be cycled or booted from another medium (a rescue system), as for a power-off.
ALTER TABLE tenant_request DROP CONSTRAINT tenant_request_action_check;
ALTER TABLE tenant_request ADD CONSTRAINT tenant_request_action_check CHECK (action IN ('POWER_OFF', 'POWER_CYCLE', 'BOOT_EXTERNAL'));

-- Approval requests and bulk plans may be for the new actions (a bulk plan for those that need no medium).
ALTER TABLE action_request DROP CONSTRAINT action_request_action_check;
ALTER TABLE action_request ADD CONSTRAINT action_request_action_check CHECK (action IN ('POWER_OFF', 'ERASE', 'REASSIGN', 'POWER_ON',
    'POWER_CYCLE', 'BOOT_LOCAL', 'BOOT_EXTERNAL'));
ALTER TABLE bulk_plan DROP CONSTRAINT bulk_plan_action_check;
ALTER TABLE bulk_plan ADD CONSTRAINT bulk_plan_action_check CHECK (action IN ('POWER_OFF', 'ERASE', 'REASSIGN', 'POWER_ON', 'POWER_CYCLE'));

-- Every identity the hardware told (a Redfish system UUID or IPMI system GUID at verification; manufacturer and
-- serial number at inspection), one machine each: one server is one machine, whichever identity a second
-- enrolment of it shows first. The primary key settles two verifications that race.
CREATE TABLE machine_hardware_id (
    hardware_id varchar(200) PRIMARY KEY,
    machine_id  uuid NOT NULL REFERENCES machine (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX machine_hardware_id_machine_idx ON machine_hardware_id (machine_id);
INSERT INTO machine_hardware_id (hardware_id, machine_id) SELECT bmc_hardware_id, id FROM machine WHERE bmc_hardware_id IS NOT NULL
    ON CONFLICT DO NOTHING;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        -- claimed, never given up by the appliance (a machine's deletion takes its identities with it)
        EXECUTE 'GRANT SELECT, INSERT ON machine_hardware_id TO ${app-role}';
    END IF;
END;
$$;

-- What the decision saw of the BMC (protocol, address, port, options): a BMC changed before the intent is carried out
-- is not driven for it. UNKNOWN: after a crash, nothing the BMC shows tells whether a cycle or a medium happened.
ALTER TABLE bmc_intent ADD COLUMN bmc_target text;
ALTER TABLE bmc_intent DROP CONSTRAINT bmc_intent_status_check;
ALTER TABLE bmc_intent ADD CONSTRAINT bmc_intent_status_check CHECK (status IN ('PENDING', 'DONE', 'FAILED', 'UNKNOWN'));
-- one boot override in flight per machine: two changes made on one read (If-Match) cannot both be carried out
CREATE UNIQUE INDEX bmc_intent_one_boot_change ON bmc_intent (machine_id) WHERE status = 'PENDING' AND operation IN ('SET_BOOT',
    'MEDIA_INSERT', 'MEDIA_EJECT');
