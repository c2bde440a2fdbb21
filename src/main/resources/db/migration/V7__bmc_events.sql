-- Redfish EventService: where this appliance subscribed a machine's BMC to push power events.
-- NULL = not asked yet; 'none' = the BMC has no EventService (power sync polls it).
ALTER TABLE machine ADD COLUMN bmc_event_subscription text;
