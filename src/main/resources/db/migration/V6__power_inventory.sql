-- Observed power state (power sync), the inventory found by inspection, and the drift flag that keeps an
-- alarm from being audited again on every sweep while it lasts.
ALTER TABLE machine
    ADD COLUMN power_state      varchar(8) CHECK (power_state IN ('ON', 'OFF')),
    ADD COLUMN power_checked_at timestamptz,
    ADD COLUMN power_error      varchar(1000),
    ADD COLUMN power_drift      boolean NOT NULL DEFAULT false,
    ADD COLUMN inventory        text,          -- JSON of driver.api.Inventory, as inspected
    ADD COLUMN inspected_at     timestamptz;
