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

-- A key enters the registry only as the genesis key of an empty registry, or by the hand-over entry that
-- names it, chained in the same transaction: whoever holds the app's database login cannot make the
-- appliance stop signing (or sign with another key) by registering a key of their choosing.
CREATE FUNCTION audit_key_by_hand_over() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    current_key char(64);
BEGIN
    SELECT fingerprint INTO current_key FROM audit_key ORDER BY from_seq DESC LIMIT 1;
    IF current_key IS NULL THEN
        IF NEW.from_seq <> 1 THEN
            RAISE EXCEPTION 'the first audit key signs from seq 1' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit_entry e WHERE e.seq = NEW.from_seq AND e.action = 'audit.key-rotated'
            AND e.subject = 'audit:key' AND e.payload::jsonb ->> 'newFingerprint' = NEW.fingerprint
            AND e.payload::jsonb ->> 'previousFingerprint' = current_key) THEN
        RAISE EXCEPTION 'an audit key is registered only by the hand-over entry that names it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_key_registered_by_hand_over BEFORE INSERT ON audit_key
    FOR EACH ROW EXECUTE FUNCTION audit_key_by_hand_over();

-- The head only ever points at the chain's newest entry, and moves forward: the app's login cannot make the
-- next entry skip sequence numbers (which would break every later export) or point the head elsewhere.
CREATE FUNCTION audit_head_follows_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq < OLD.seq OR (NEW.seq > 0 AND NOT EXISTS (SELECT 1 FROM audit_entry WHERE seq = NEW.seq AND hash = NEW.hash))
            OR EXISTS (SELECT 1 FROM audit_entry WHERE seq > NEW.seq) THEN
        RAISE EXCEPTION 'the audit head moves only forward, to the newest entry' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_head_follows_chain BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_follows_chain();

-- A checkpoint names an entry of the chain with its hash, at or before the head.
CREATE FUNCTION audit_checkpoint_in_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq > (SELECT seq FROM audit_head WHERE id = 1)
            OR NOT EXISTS (SELECT 1 FROM audit_entry WHERE seq = NEW.seq AND hash = NEW.hash) THEN
        RAISE EXCEPTION 'a checkpoint names an entry of the chain, with its hash' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_checkpoint_in_chain BEFORE INSERT ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_in_chain();

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
    -- one delivery per head and witness; after an acknowledged regression a reused seq is a new head
    CONSTRAINT witness_delivery_once UNIQUE (witness, head)
);
CREATE INDEX witness_delivery_due_idx ON witness_delivery (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX witness_delivery_seq_idx ON witness_delivery (checkpoint_seq);

-- What is owed is never taken back: no delete, the head and its seq never change, and a delivered head
-- stays delivered with its receipt (the app's login cannot mark an undelivered head delivered).
CREATE FUNCTION witness_delivery_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.head <> OLD.head OR NEW.checkpoint_seq <> OLD.checkpoint_seq OR NEW.witness <> OLD.witness
            OR OLD.status = 'DELIVERED' OR (NEW.status = 'DELIVERED' AND NEW.receipt IS NULL) THEN
        RAISE EXCEPTION 'a witness delivery only moves forward (% on %)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER witness_delivery_forward_only BEFORE UPDATE OR DELETE ON witness_delivery
    FOR EACH ROW EXECUTE FUNCTION witness_delivery_forward_only();
CREATE TRIGGER witness_delivery_no_truncate BEFORE TRUNCATE ON witness_delivery
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT ON audit_key TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON witness_delivery TO ${app-role}';
        EXECUTE 'GRANT USAGE ON SEQUENCE witness_delivery_id_seq TO ${app-role}';
    END IF;
END;
$$;
