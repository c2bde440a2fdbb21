-- What one machine's BMC needs unlike the others (MachineApi.BmcOptions as JSON): which system of a
-- multi-system BMC it is, the IPMI privilege to ask for, the BMC's own names for reset types.
ALTER TABLE machine ADD COLUMN bmc_options text;
