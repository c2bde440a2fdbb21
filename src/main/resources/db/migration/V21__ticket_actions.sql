-- Issue 14 point 1, ticketing: an inbound event may ask for a hold or carry a note instead of moving a lease. It is
-- stored in inbound_event like every other (idempotent by (source, external_id), before it is acted on); it names a
-- lease, or only a tenant (its external reference), and keeps the hold it placed, so a resend places nothing twice.
ALTER TABLE inbound_event ALTER COLUMN lease_ref DROP NOT NULL;
ALTER TABLE inbound_event ADD COLUMN tenant_ref varchar(200);
ALTER TABLE inbound_event ADD COLUMN hold_id uuid REFERENCES hold (id);
ALTER TABLE inbound_event ADD CONSTRAINT inbound_event_names_target CHECK (lease_ref IS NOT NULL OR tenant_ref IS NOT NULL);
