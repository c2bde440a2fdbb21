-- Outbound (issue 14 point 3): the relay that follows the committed audit chain (decision 0016), the
-- endpoints it delivers to, and every delivery with its idempotency key and proof.

-- Where each subscriber of the chain has got to: every audit entry up to last_seq has been turned into
-- its deliveries (in the same transaction that moved the cursor).
CREATE TABLE outbox_cursor (
    subscriber varchar(120) PRIMARY KEY,      -- 'email' or 'endpoint:<uuid>'
    last_seq   bigint NOT NULL,
    updated_at timestamptz NOT NULL
);
-- Notices by e-mail start here: every notice created from now on is mailed, whether or not the relay is
-- running yet (a fresh install from its first entry; an upgraded one does not mail its history).
INSERT INTO outbox_cursor (subscriber, last_seq, updated_at) SELECT 'email', seq, now() FROM audit_head;

-- Webhook and ticket endpoints; the HMAC secret is AES-GCM encrypted (security.SecretCipher, associated
-- data 'outbound-endpoint:<id>') and never returned. tenant_id set: the tenant's own system (a notice
-- delivered there is proven); unset: the provider's own systems.
CREATE TABLE outbound_endpoint (
    id          uuid PRIMARY KEY,
    name        varchar(100) NOT NULL,
    kind        varchar(16) NOT NULL CHECK (kind IN ('WEBHOOK', 'TICKET')),
    url         text NOT NULL,
    secret      text,
    tenant_id   uuid REFERENCES tenant (id),
    actions     text NOT NULL,                -- comma separated audit actions
    created_by  varchar(200) NOT NULL,
    created_at  timestamptz NOT NULL,
    disabled_at timestamptz,
    CONSTRAINT outbound_endpoint_name_key UNIQUE (name)
);

-- One delivery per (subscriber, audit entry, recipient): the idempotency key. Its body and Message-ID are
-- fixed when it is created, before the first send, so a resend after a crash is byte-for-byte the same.
CREATE TABLE outbound_delivery (
    id              bigserial PRIMARY KEY,
    idempotency_key varchar(300) NOT NULL,
    subscriber      varchar(120) NOT NULL,
    channel         varchar(16) NOT NULL CHECK (channel IN ('EMAIL', 'WEBHOOK', 'TICKET')),
    audit_seq       bigint NOT NULL,
    action          varchar(100) NOT NULL,
    notice_id       uuid REFERENCES notice (id),
    tenant_id       uuid REFERENCES tenant (id),
    recipient       text NOT NULL,            -- an address or a URL
    message_id      varchar(300),             -- e-mail only
    title           text,                     -- e-mail subject
    body            text NOT NULL,
    status          varchar(16) NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'BOUNCED')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    proof           text,
    sent_at         timestamptz,
    attempt_id      uuid,                     -- the notice attempt that records it
    created_at      timestamptz NOT NULL,
    CONSTRAINT outbound_delivery_key UNIQUE (idempotency_key)
);
CREATE INDEX outbound_delivery_due_idx ON outbound_delivery (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX outbound_delivery_message_idx ON outbound_delivery (message_id);
CREATE INDEX outbound_delivery_notice_idx ON outbound_delivery (notice_id);

-- A BOUNCED attempt names the SENT attempt it bounces: the gate counts the two as one attempt.
ALTER TABLE notice_attempt ADD COLUMN supersedes uuid REFERENCES notice_attempt (id);

-- The tenant's page (point 4): what a signed link was used for, and how often (a bound per link).
CREATE TABLE notice_link_use (
    id         uuid PRIMARY KEY,
    notice_id  uuid NOT NULL REFERENCES notice (id),
    choice     varchar(32) NOT NULL CHECK (choice IN ('ACKNOWLEDGE', 'PRESERVE', 'EXPORT')),
    remote     varchar(100),
    at         timestamptz NOT NULL
);
CREATE INDEX notice_link_use_notice_idx ON notice_link_use (notice_id, at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON outbox_cursor, outbound_endpoint, outbound_delivery TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT ON notice_link_use TO ${app-role}';
        EXECUTE 'GRANT USAGE ON SEQUENCE outbound_delivery_id_seq TO ${app-role}';
    END IF;
END;
$$;
