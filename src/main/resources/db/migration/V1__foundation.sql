-- metalgate foundation schema. Owned by the migration role; the application connects as ${app-role},
-- which gets only the privileges granted at the end of this file. In particular it may INSERT and
-- SELECT the audit log but never UPDATE, DELETE or TRUNCATE it; the triggers below refuse those to
-- every role, the owner included, so that a tampering attempt needs a deliberate DDL change.

CREATE TABLE tenant (
    id            uuid PRIMARY KEY,
    name          varchar(200) NOT NULL,
    external_ref  varchar(200),
    contact_email varchar(320),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint NOT NULL DEFAULT 0,
    CONSTRAINT tenant_name_key UNIQUE (name),
    CONSTRAINT tenant_external_ref_key UNIQUE (external_ref)
);

CREATE TABLE machine (
    id                  uuid PRIMARY KEY,
    name                varchar(200) NOT NULL,
    rack                varchar(100),
    location            varchar(200),
    bmc_protocol        varchar(16) NOT NULL CHECK (bmc_protocol IN ('REDFISH', 'IPMI')),
    bmc_host            varchar(255) NOT NULL,
    bmc_port            integer NOT NULL CHECK (bmc_port BETWEEN 1 AND 65535),
    bmc_username        varchar(64) NOT NULL,
    bmc_secret          text NOT NULL,            -- AES-256-GCM, see SecretCipher
    bmc_tls_fingerprint varchar(95),              -- SHA-256 of the pinned certificate, hex
    lifecycle_state     varchar(32) NOT NULL,
    maintenance         boolean NOT NULL DEFAULT false,
    maintenance_reason  varchar(500),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             bigint NOT NULL DEFAULT 0,
    CONSTRAINT machine_name_key UNIQUE (name),
    CONSTRAINT machine_bmc_endpoint_key UNIQUE (bmc_host, bmc_port)
);
CREATE INDEX machine_rack_idx ON machine (rack);
CREATE INDEX machine_state_idx ON machine (lifecycle_state);

CREATE TABLE lease (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenant (id),
    external_ref varchar(200) NOT NULL,
    state        varchar(32) NOT NULL,
    starts_at    timestamptz,
    ends_at      timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint NOT NULL DEFAULT 0,
    CONSTRAINT lease_external_ref_key UNIQUE (external_ref)
);
CREATE INDEX lease_tenant_idx ON lease (tenant_id);

-- A machine belongs to at most one lease at a time.
CREATE TABLE lease_machine (
    lease_id   uuid NOT NULL REFERENCES lease (id) ON DELETE CASCADE,
    machine_id uuid NOT NULL REFERENCES machine (id),
    PRIMARY KEY (lease_id, machine_id),
    CONSTRAINT lease_machine_machine_key UNIQUE (machine_id)
);

CREATE TABLE app_user (
    username      varchar(64) PRIMARY KEY,
    password_hash varchar(255) NOT NULL,          -- Argon2id, PHC string format
    roles         varchar(200) NOT NULL,          -- comma separated
    created_at    timestamptz NOT NULL,
    disabled      boolean NOT NULL DEFAULT false
);

CREATE TABLE api_token (
    id          uuid PRIMARY KEY,
    name        varchar(100) NOT NULL,
    username    varchar(64) NOT NULL REFERENCES app_user (username) ON DELETE CASCADE,
    token_hash  char(64) NOT NULL,                -- SHA-256 of a 256-bit random token, hex
    roles       varchar(200) NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz,
    revoked_at  timestamptz,
    CONSTRAINT api_token_hash_key UNIQUE (token_hash)
);

-- Lease events received from billing / ticketing (Camel routes), idempotent by (source, external_id).
CREATE TABLE inbound_event (
    id          uuid PRIMARY KEY,
    source      varchar(100) NOT NULL,
    external_id varchar(200) NOT NULL,
    event_type  varchar(64) NOT NULL,
    lease_ref   varchar(200) NOT NULL,
    occurred_at timestamptz,
    received_at timestamptz NOT NULL,
    body        text NOT NULL,
    status      varchar(32) NOT NULL,
    CONSTRAINT inbound_event_source_external_key UNIQUE (source, external_id)
);

-- Inbound messages that could not be accepted: kept whole, with the reason, never dropped.
CREATE TABLE dead_letter (
    id          uuid PRIMARY KEY,
    channel     varchar(100) NOT NULL,
    received_at timestamptz NOT NULL,
    reason      text NOT NULL,
    body        text NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- Evidence: the audit chain.
-- Writers insert into audit_pending inside their own transaction (atomic with the change they
-- record). The sequencer moves pending rows into audit_entry in order, computing each hash over
-- the previous one while holding the single audit_head row lock, so the chain can never fork, even
-- with several appliances on one database.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE audit_pending (
    id          bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    actor       varchar(200) NOT NULL,
    action      varchar(100) NOT NULL,
    subject     varchar(300) NOT NULL,
    payload     text NOT NULL                     -- RFC 8785 canonical JSON
);

CREATE TABLE audit_entry (
    seq       bigint PRIMARY KEY,
    time      timestamptz NOT NULL,
    actor     varchar(200) NOT NULL,
    action    varchar(100) NOT NULL,
    subject   varchar(300) NOT NULL,
    payload   text NOT NULL,                      -- RFC 8785 canonical JSON
    prev_hash char(64) NOT NULL,
    hash      char(64) NOT NULL,
    CONSTRAINT audit_entry_prev_hash_key UNIQUE (prev_hash),
    CONSTRAINT audit_entry_hash_key UNIQUE (hash)
);
CREATE INDEX audit_entry_subject_idx ON audit_entry (subject, seq);
CREATE INDEX audit_entry_actor_idx ON audit_entry (actor, seq);
CREATE INDEX audit_entry_time_idx ON audit_entry (time);

CREATE TABLE audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash char(64) NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

CREATE TABLE audit_checkpoint (
    seq             bigint PRIMARY KEY REFERENCES audit_entry (seq),
    hash            char(64) NOT NULL,
    time            timestamptz NOT NULL,
    key_fingerprint char(64) NOT NULL,
    signature       text NOT NULL                 -- Ed25519 over canonical {"hash","seq","time"}, base64
);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- ---------------------------------------------------------------------------------------------
-- Privileges of the application role.
-- ---------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON tenant, machine, lease, lease_machine, app_user,
                 api_token, inbound_event, dead_letter TO ${app-role}';
        -- UPDATE only because SELECT ... FOR UPDATE SKIP LOCKED needs it; the queue is not evidence yet.
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON audit_pending TO ${app-role}';
        EXECUTE 'GRANT USAGE ON SEQUENCE audit_pending_id_seq TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT ON audit_entry, audit_checkpoint TO ${app-role}';
        EXECUTE 'GRANT SELECT, UPDATE ON audit_head TO ${app-role}';
    END IF;
END;
$$;
