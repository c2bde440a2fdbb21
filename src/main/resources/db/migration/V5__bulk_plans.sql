-- Bulk action plans: the decision for every selected machine, the blast radius, and the fingerprint of
-- the facts they were made from (a plan whose facts changed is stale and must be made again).
CREATE TABLE bulk_plan (
    id           uuid PRIMARY KEY,
    action       varchar(16) NOT NULL CHECK (action IN ('POWER_OFF', 'ERASE', 'REASSIGN')),
    selector     text NOT NULL,
    machine_ids  uuid[] NOT NULL,
    fingerprint  char(64) NOT NULL,
    requested_by varchar(200) NOT NULL,
    reason       text NOT NULL,
    created_at   timestamptz NOT NULL,
    status       varchar(16) NOT NULL CHECK (status IN ('PLANNED', 'EXECUTED'))
);

CREATE TABLE bulk_plan_approval (
    plan_id  uuid NOT NULL REFERENCES bulk_plan (id),
    approver varchar(200) NOT NULL,
    roles    varchar(200) NOT NULL,
    at       timestamptz NOT NULL,
    PRIMARY KEY (plan_id, approver)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON bulk_plan TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT ON bulk_plan_approval TO ${app-role}';
    END IF;
END;
$$;
