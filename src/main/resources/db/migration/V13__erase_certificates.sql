-- Erase reports as the agents sent them (refused ones too), and the signed erase certificates issued for verified
-- ones (issue 13). A certificate is never changed or deleted.
CREATE TABLE erase_report (
    id          uuid PRIMARY KEY,
    machine_id  uuid NOT NULL REFERENCES machine (id),
    received_at timestamptz NOT NULL,
    body        text NOT NULL,
    accepted    boolean NOT NULL,
    refusal     text
);
CREATE INDEX erase_report_machine_idx ON erase_report (machine_id, received_at);

CREATE TABLE erase_certificate (
    id              uuid PRIMARY KEY,
    machine_id      uuid NOT NULL REFERENCES machine (id),
    issued_at       timestamptz NOT NULL,
    body            text NOT NULL,          -- canonical JSON, what is signed
    signature       text NOT NULL,          -- base64, by the audit signing key
    key_fingerprint varchar(100) NOT NULL,
    disk_serials    text[] NOT NULL
);
CREATE INDEX erase_certificate_machine_idx ON erase_certificate (machine_id, issued_at);
CREATE FUNCTION erase_certificate_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'erase certificates are never changed or deleted';
END;
$$;
CREATE TRIGGER erase_certificate_immutable BEFORE UPDATE OR DELETE ON erase_certificate
    FOR EACH ROW EXECUTE FUNCTION erase_certificate_immutable();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT ON erase_report, erase_certificate TO ${app-role}';
    END IF;
END;
$$;
