-- "Claims need proof" (domain.md): an attempt the appliance made or received itself (an e-mail its SMTP server took, a
-- webhook, a ticket, a bounce read back, the tenant's own click on its signed link) carries its proof; an attempt a person
-- types in through the API (a letter, a phone call, a mail sent by hand) is that person's claim. It is kept, shown and
-- audited, but the gate counts it only once a second, different person confirms it — as for a tenant's request.
ALTER TABLE notice_attempt ADD COLUMN by_person boolean NOT NULL DEFAULT false;
-- attempts typed in before this version were counted alone: they now wait for a confirmation like any other (fail safe)
UPDATE notice_attempt SET by_person = true WHERE recorded_by NOT LIKE 'system/%' AND recorded_by <> 'tenant-link';

CREATE TABLE notice_attempt_confirmation (
    attempt_id   uuid PRIMARY KEY REFERENCES notice_attempt (id),
    confirmed_by varchar(128) NOT NULL,
    at           timestamptz NOT NULL,
    reason       text NOT NULL
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT ON notice_attempt_confirmation TO ${app-role}';
    END IF;
END;
$$;
