-- Action requests that need another person's approval, and the approvals / rejections they got.
CREATE TABLE action_request (
    id           uuid PRIMARY KEY,
    action       varchar(16) NOT NULL CHECK (action IN ('POWER_OFF', 'ERASE', 'REASSIGN')),
    machine_id   uuid NOT NULL REFERENCES machine (id),
    requested_by varchar(200) NOT NULL,
    reason       text NOT NULL,
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    status       varchar(16) NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'EXECUTED'))
);
CREATE INDEX action_request_machine_idx ON action_request (machine_id, requested_at);

CREATE TABLE approval (
    request_id uuid NOT NULL REFERENCES action_request (id),
    approver   varchar(200) NOT NULL,
    roles      varchar(200) NOT NULL,
    decision   varchar(8) NOT NULL CHECK (decision IN ('APPROVE', 'REJECT')),
    reason     text,
    at         timestamptz NOT NULL,
    PRIMARY KEY (request_id, approver)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON action_request TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT ON approval TO ${app-role}';
    END IF;
END;
$$;
