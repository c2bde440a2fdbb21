-- Every state change of a lease or machine, as data (the audit log holds the same, chained).
ALTER TABLE lease ADD COLUMN terminated_at timestamptz;

CREATE TABLE state_transition (
    id           uuid PRIMARY KEY,
    subject_type varchar(16) NOT NULL CHECK (subject_type IN ('LEASE', 'MACHINE')),
    subject_id   uuid NOT NULL,
    from_state   varchar(32) NOT NULL,
    event        varchar(32) NOT NULL,
    to_state     varchar(32) NOT NULL,
    actor        varchar(200) NOT NULL,
    reason       varchar(1000),
    at           timestamptz NOT NULL
);
CREATE INDEX state_transition_subject_idx ON state_transition (subject_type, subject_id, at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT ON state_transition TO ${app-role}';
    END IF;
END;
$$;
