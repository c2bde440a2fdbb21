-- Issue 14 point 1, the mailbox: every message read from the watched IMAP mailbox is stored (idempotent by its
-- Message-ID) before it is acted on; where reading has got to is remembered per mailbox, by UID within the folder's
-- UIDVALIDITY, so a restart does not read again what was read.
CREATE TABLE mailbox_cursor (
    mailbox      varchar(400) PRIMARY KEY,   -- user@host:port/folder
    uid_validity bigint NOT NULL,
    last_uid     bigint NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE inbound_mail (
    id             uuid PRIMARY KEY,
    mailbox        varchar(400) NOT NULL,
    uid            bigint NOT NULL,
    message_id     varchar(1000) NOT NULL,
    from_address   varchar(400),
    subject        text,
    in_reply_to    text,
    refs           text,
    received_at    timestamptz NOT NULL,
    raw_sha256     char(64) NOT NULL,
    raw            text NOT NULL,            -- as received, up to max-stored-bytes
    classification varchar(16) NOT NULL CHECK (classification IN ('PRESERVATION', 'UNSURE', 'NONE', 'AUTOMATED')),
    matched        text,
    status         varchar(16) NOT NULL CHECK (status IN ('RECEIVED', 'APPLIED')),
    review         boolean NOT NULL DEFAULT false,
    review_reason  text,
    tenant_ids     text,                     -- comma separated: whose the sender is
    notice_id      uuid REFERENCES notice (id),
    attempt_id     uuid,
    hold_ids       text,                     -- comma separated: the holds it placed
    CONSTRAINT inbound_mail_message_id_key UNIQUE (message_id)
);
CREATE INDEX inbound_mail_received_idx ON inbound_mail (received_at) WHERE status = 'RECEIVED';
CREATE INDEX inbound_mail_review_idx ON inbound_mail (received_at) WHERE review;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON mailbox_cursor, inbound_mail TO ${app-role}';
    END IF;
END;
$$;
