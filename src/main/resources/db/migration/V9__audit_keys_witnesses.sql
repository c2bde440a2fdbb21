-- The fleet's audit signing keys, by the entry they sign from (docs/decisions/0011-witnessed-audit-heads.md).
-- The genesis key signs from seq 1; a successor from its hand-over entry (action audit.key-rotated, signed
-- by both keys). Private keys never come here. Only the public halves, which the chain carries anyway: the
-- table tells an appliance which key is current and an export which key started the log.
CREATE TABLE audit_key (
    fingerprint char(64) PRIMARY KEY,
    public_key  text NOT NULL,                    -- base64 SubjectPublicKeyInfo
    from_seq    bigint NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);
CREATE TRIGGER audit_key_append_only BEFORE UPDATE OR DELETE ON audit_key
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_key_no_truncate BEFORE TRUNCATE ON audit_key
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The outbox of witnessed heads: one row per signed checkpoint and configured witness, written in the
-- checkpoint's transaction and delivered (retried with backoff) by the witness routes; the receipt is what
-- the witness answered (file and line digest, HTTP status and body digest, Message-ID, TSA token).
CREATE TABLE witness_delivery (
    id              bigserial PRIMARY KEY,
    checkpoint_seq  bigint NOT NULL,
    witness         varchar(20) NOT NULL,         -- file, webhook, email, tsa
    head            text NOT NULL,                -- the canonical head as delivered
    status          varchar(20) NOT NULL,         -- PENDING, DELIVERED
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    delivered_at    timestamptz,
    receipt         text,
    CONSTRAINT witness_delivery_once UNIQUE (checkpoint_seq, witness)
);
CREATE INDEX witness_delivery_due_idx ON witness_delivery (next_attempt_at) WHERE status = 'PENDING';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT ON audit_key TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON witness_delivery TO ${app-role}';
        EXECUTE 'GRANT USAGE ON SEQUENCE witness_delivery_id_seq TO ${app-role}';
    END IF;
END;
$$;
