-- Issue 13: a machine whose BMC reports no NICs (IPMI) is recognised at network boot by the MACs an operator
-- names; inspection replaces only the MACs it found itself.
ALTER TABLE machine_mac ADD COLUMN source varchar(16) NOT NULL DEFAULT 'inspection'
    CHECK (source IN ('inspection', 'operator'));
