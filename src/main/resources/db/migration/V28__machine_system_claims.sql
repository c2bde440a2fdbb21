-- A Redfish machine claims its system at its BMC address (redfish-system:host:port/Id) when verified, beside the
-- system UUID: a record without a system id and one naming the BMC's only system are one server, even when the BMC
-- reports no UUID. Such a claim names an address, which can change (the machine's BMC moved): at its next verification
-- the machine gives up the address claims it no longer shows, so the old address can be another server's.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT DELETE ON machine_hardware_id TO ${app-role}';
    END IF;
END;
$$;
