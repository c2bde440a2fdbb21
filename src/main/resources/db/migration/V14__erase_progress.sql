-- What the erase agent last said of each disk (issue 13, point 7): an erase that stops reporting times out.
CREATE TABLE erase_progress (
    machine_id    uuid NOT NULL REFERENCES machine (id),
    serial_number varchar(200) NOT NULL,
    phase         varchar(32) NOT NULL,
    percent       integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
    detail        varchar(1000),
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (machine_id, serial_number)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON erase_progress TO ${app-role}';
    END IF;
END;
$$;
