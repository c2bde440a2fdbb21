-- Holds (domain.md "Holds") and notices with their attempts (domain.md "Notices").
CREATE TABLE hold (
    id                   uuid PRIMARY KEY,
    kind                 varchar(32) NOT NULL CHECK (kind IN ('LEGAL_HOLD', 'PRESERVATION_REQUEST', 'DISPUTE')),
    scope                varchar(16) NOT NULL CHECK (scope IN ('TENANT', 'LEASE', 'MACHINES')),
    tenant_id            uuid NOT NULL REFERENCES tenant (id),
    lease_id             uuid REFERENCES lease (id),
    reason               text NOT NULL,
    placed_by            varchar(200) NOT NULL,
    placed_at            timestamptz NOT NULL,
    release_requested_by varchar(200),
    release_requested_at timestamptz,
    release_reason       text,
    release_requester_legal boolean,
    released_by          varchar(200),
    released_at          timestamptz,
    version              bigint NOT NULL DEFAULT 0,
    CHECK ((scope = 'LEASE') = (lease_id IS NOT NULL))
);
CREATE INDEX hold_tenant_idx ON hold (tenant_id) WHERE released_at IS NULL;

CREATE TABLE hold_machine (
    hold_id    uuid NOT NULL REFERENCES hold (id),
    machine_id uuid NOT NULL REFERENCES machine (id),
    PRIMARY KEY (hold_id, machine_id)
);
CREATE INDEX hold_machine_machine_idx ON hold_machine (machine_id);

CREATE TABLE notice (
    id         uuid PRIMARY KEY,
    kind       varchar(32) NOT NULL CHECK (kind IN ('SUSPENSION', 'TERMINATION', 'ERASE')),
    tenant_id  uuid NOT NULL REFERENCES tenant (id),
    lease_id   uuid REFERENCES lease (id),
    deadline   timestamptz,
    created_by varchar(200) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX notice_tenant_idx ON notice (tenant_id);

CREATE TABLE notice_attempt (
    id          uuid PRIMARY KEY,
    notice_id   uuid NOT NULL REFERENCES notice (id),
    channel     varchar(32) NOT NULL CHECK (channel IN ('EMAIL', 'WEBHOOK', 'TICKET', 'LINK')),
    outcome     varchar(16) NOT NULL CHECK (outcome IN ('SENT', 'DELIVERED', 'BOUNCED', 'ACKNOWLEDGED')),
    proof       text NOT NULL,
    at          timestamptz NOT NULL,
    recorded_by varchar(200) NOT NULL
);
CREATE INDEX notice_attempt_notice_idx ON notice_attempt (notice_id, at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON hold TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT ON hold_machine, notice, notice_attempt TO ${app-role}';
    END IF;
END;
$$;
