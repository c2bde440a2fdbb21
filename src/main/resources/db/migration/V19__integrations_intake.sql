-- Issue 14: the intake route's dead letters become replayable, events left RECEIVED are found quickly, and
-- signed webhook integrations are configured in the database (their secrets encrypted by SecretCipher).

-- A dead letter stays (it is what arrived); a replay records who replayed it, when, and what it became.
ALTER TABLE dead_letter ADD COLUMN status varchar(16) NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'REPLAYED'));
ALTER TABLE dead_letter ADD COLUMN replays integer NOT NULL DEFAULT 0;
ALTER TABLE dead_letter ADD COLUMN replayed_at timestamptz;
ALTER TABLE dead_letter ADD COLUMN replayed_by varchar(200);
ALTER TABLE dead_letter ADD COLUMN replay_event_id uuid;
ALTER TABLE dead_letter ADD COLUMN replay_reason text;
CREATE INDEX dead_letter_received_idx ON dead_letter (received_at, id);

-- Events stored but never acted on (a crash between the two, a failure): re-applied at start and by a sweep.
CREATE INDEX inbound_event_received_idx ON inbound_event (received_at) WHERE status = 'RECEIVED';

-- One signed HTTP endpoint per integration: POST /api/integrations/webhooks/{name}.
CREATE TABLE integration (
    name              varchar(64) PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    kind              varchar(32) NOT NULL CHECK (kind IN ('BILLING_WEBHOOK', 'TICKETING_WEBHOOK')),
    secret            text NOT NULL,
    signature_header  varchar(100) NOT NULL,
    tolerance_seconds integer NOT NULL CHECK (tolerance_seconds BETWEEN 1 AND 86400),
    mapping           text,
    enabled           boolean NOT NULL DEFAULT true,
    created_by        varchar(200) NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           integer NOT NULL DEFAULT 0
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON integration TO ${app-role}';
    END IF;
END;
$$;
