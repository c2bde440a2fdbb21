-- The data, not the lease row, is what the gate protects (domain.md "Invariants the gate holds against an
-- adversary"). A machine carries whose data it holds and whether it was leased since its last erase; both
-- are set when it joins a lease and cleared only by a verified erase, so leaving a lease, joining another
-- or losing its lease row changes nothing the gate reads.
ALTER TABLE machine
    ADD COLUMN data_tenant_id     uuid REFERENCES tenant (id),
    ADD COLUMN data_lease_id      uuid REFERENCES lease (id),
    ADD COLUMN leased_since_erase boolean NOT NULL DEFAULT false,
    -- canonical BMC identity: the resolved address (IPv4-mapped IPv6 as IPv4), whatever the port or
    -- protocol; one BMC is one machine however its address is spelled
    ADD COLUMN bmc_identity       varchar(300),
    -- what the BMC says it is (Redfish ComputerSystem UUID), once verified; unique when known
    ADD COLUMN bmc_hardware_id    varchar(200);
UPDATE machine m SET data_tenant_id = l.tenant_id, data_lease_id = l.id, leased_since_erase = true
    FROM lease_machine lm JOIN lease l ON l.id = lm.lease_id WHERE lm.machine_id = m.id;
-- Machines enrolled before: the oldest machine on a host keeps it as its identity; a later twin on the
-- same host (another port or protocol) is marked as such, for an operator to resolve.
UPDATE machine m SET bmc_identity = CASE WHEN x.n = 1 THEN x.h ELSE x.h || '#twin-of-' || x.first END
    FROM (SELECT id, lower(bmc_host) AS h, row_number() OVER w AS n, first_value(id) OVER w AS first FROM machine
          WINDOW w AS (PARTITION BY lower(bmc_host) ORDER BY created_at, id)) x
    WHERE x.id = m.id;
ALTER TABLE machine ALTER COLUMN bmc_identity SET NOT NULL;
ALTER TABLE machine DROP CONSTRAINT machine_bmc_endpoint_key;
CREATE UNIQUE INDEX machine_bmc_identity_key ON machine (bmc_identity);
CREATE UNIQUE INDEX machine_bmc_hardware_id_key ON machine (bmc_hardware_id) WHERE bmc_hardware_id IS NOT NULL;
CREATE INDEX machine_data_tenant_idx ON machine (data_tenant_id) WHERE data_tenant_id IS NOT NULL;
CREATE INDEX machine_data_lease_idx ON machine (data_lease_id) WHERE data_lease_id IS NOT NULL;

-- Custody history: every lease a machine was in, kept after it leaves, so that a tenant's evidence report
-- follows its data (and a machine that ever held a tenant's data is never deleted, only retired).
CREATE TABLE machine_custody (
    machine_id uuid NOT NULL REFERENCES machine (id),
    lease_id   uuid NOT NULL,                 -- no foreign key: a PENDING lease may be deleted, its history stays
    -- a tenant is deleted only while it has no lease, and a machine that held its data keeps its (ended) lease,
    -- so a cascade here only ever removes records of leases that never started
    tenant_id  uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    since      timestamptz NOT NULL,
    left_at    timestamptz,
    erased_at  timestamptz,
    -- the machine left (or the lease was deleted) before the lease ever started: it never held its data
    never_started boolean NOT NULL DEFAULT false,
    PRIMARY KEY (machine_id, lease_id)
);
CREATE INDEX machine_custody_tenant_idx ON machine_custody (tenant_id);
INSERT INTO machine_custody (machine_id, lease_id, tenant_id, since)
    SELECT lm.machine_id, l.id, l.tenant_id, l.created_at FROM lease_machine lm JOIN lease l ON l.id = lm.lease_id;

-- Machines removed from a lease before this migration lost their lease row, but the audit log still names
-- the lease they joined (lease.created / lease.machines-added): they still hold that lease's data.
CREATE TEMPORARY TABLE v8_joined ON COMMIT DROP AS
    SELECT DISTINCT ON (j.mid) j.mid::uuid AS machine_id, l.id AS lease_id, l.tenant_id, a.time
    FROM audit_entry a
    CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.payload::jsonb -> 'machineIds') = 'array'
        THEN a.payload::jsonb -> 'machineIds' ELSE '[]'::jsonb END) AS j(mid)
    JOIN lease l ON a.subject = 'lease:' || l.id
    WHERE a.action IN ('lease.created', 'lease.machines-added') AND l.state <> 'PENDING'
    ORDER BY j.mid, a.seq DESC;
UPDATE machine m SET data_tenant_id = j.tenant_id, data_lease_id = j.lease_id, leased_since_erase = true
    FROM v8_joined j WHERE m.id = j.machine_id AND m.data_lease_id IS NULL;
INSERT INTO machine_custody (machine_id, lease_id, tenant_id, since, left_at)
    SELECT j.machine_id, j.lease_id, j.tenant_id, j.time, now() FROM v8_joined j JOIN machine m ON m.id = j.machine_id
    ON CONFLICT (machine_id, lease_id) DO NOTHING;
-- When unsure, protect: a machine in a state that only service leads to is taken as leased since its last erase.
UPDATE machine SET leased_since_erase = true
    WHERE lifecycle_state IN ('DEPLOYING', 'ACTIVE', 'SUSPENDED', 'RETAINED', 'ERASING', 'ERASE_FAILED', 'DEPLOY_FAILED');

-- Time is the server's: notice_attempt.at is when the appliance received the attempt's record; a time
-- the client claims is kept beside it. (Rows from before this migration keep their time as both.)
ALTER TABLE notice_attempt ADD COLUMN claimed_at timestamptz;
UPDATE notice_attempt SET claimed_at = at;

-- Intent before action: the BMC is driven only after the intent is recorded (with the decision, in the
-- same transaction); its outcome is recorded after. A restart finds PENDING intents and reconciles them
-- with what the BMC says.
CREATE TABLE bmc_intent (
    id          uuid PRIMARY KEY,
    machine_id  uuid NOT NULL REFERENCES machine (id),
    operation   varchar(32) NOT NULL CHECK (operation IN ('POWER_OFF', 'POWER_ON')),
    event       varchar(32),                 -- the lifecycle event fired once the BMC did it, if any
    from_state  varchar(32) NOT NULL,
    actor       varchar(200) NOT NULL,
    reason      varchar(1000),
    created_at  timestamptz NOT NULL,
    status      varchar(16) NOT NULL CHECK (status IN ('PENDING', 'DONE', 'FAILED')),
    outcome     text,
    finished_at timestamptz
);
CREATE INDEX bmc_intent_pending_idx ON bmc_intent (created_at) WHERE status = 'PENDING';
CREATE INDEX bmc_intent_machine_idx ON bmc_intent (machine_id, created_at);

-- Bulk execution is per machine: each machine's outcome at execution is stored on the plan; a plan ends
-- EXECUTED (all done) or PARTIAL; re-executing skips what is done. Plans expire like approval requests.
ALTER TABLE bulk_plan DROP CONSTRAINT bulk_plan_status_check;
ALTER TABLE bulk_plan ADD CONSTRAINT bulk_plan_status_check CHECK (status IN ('PLANNED', 'EXECUTING', 'EXECUTED', 'PARTIAL'));
ALTER TABLE bulk_plan ADD COLUMN expires_at timestamptz;
UPDATE bulk_plan SET expires_at = created_at + interval '72 hours';
ALTER TABLE bulk_plan ALTER COLUMN expires_at SET NOT NULL;
CREATE TABLE bulk_plan_outcome (
    plan_id    uuid NOT NULL REFERENCES bulk_plan (id),
    machine_id uuid NOT NULL REFERENCES machine (id),
    outcome    varchar(16) NOT NULL CHECK (outcome IN ('DONE', 'REFUSED', 'FAILED')),
    detail     text NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (plan_id, machine_id)
);

-- The blast radius counts the erases started within its window (24 h). Counting them from state_transition
-- for every decision grows with the window (a 60,000-machine plan made each decision scan up to 60,000 rows):
-- erases are tallied per hour instead, in the transaction that starts them, globally and per tenant, each
-- with the bulk plan it belonged to (the nil uuid for none) so a plan's own machines can be left out. The
-- window then starts at the top of its first hour: an erase up to an hour older still counts (conservative).
CREATE TABLE erase_tally (
    hour    timestamptz NOT NULL,
    plan_id uuid NOT NULL,
    n       integer NOT NULL,
    PRIMARY KEY (hour, plan_id)
);
CREATE TABLE erase_tally_tenant (
    tenant_id uuid NOT NULL,
    hour      timestamptz NOT NULL,
    plan_id   uuid NOT NULL,
    n         integer NOT NULL,
    PRIMARY KEY (tenant_id, hour, plan_id)
);
INSERT INTO erase_tally (hour, plan_id, n)
    SELECT date_trunc('hour', st.at), '00000000-0000-0000-0000-000000000000', count(DISTINCT st.subject_id) FROM state_transition st
    WHERE st.subject_type = 'MACHINE' AND st.to_state = 'ERASING' AND st.at > now() - interval '25 hours' GROUP BY 1;
INSERT INTO erase_tally_tenant (tenant_id, hour, plan_id, n)
    SELECT m.data_tenant_id, date_trunc('hour', st.at), '00000000-0000-0000-0000-000000000000', count(DISTINCT st.subject_id)
    FROM state_transition st JOIN machine m ON m.id = st.subject_id
    WHERE st.subject_type = 'MACHINE' AND st.to_state = 'ERASING' AND st.at > now() - interval '25 hours' AND m.data_tenant_id IS NOT NULL
    GROUP BY 1, 2;

-- "The tenant asked for it" is a recorded fact with its proof, confirmed by a second person; never a flag.
CREATE TABLE tenant_request (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenant (id),
    machine_id   uuid NOT NULL REFERENCES machine (id),
    action       varchar(16) NOT NULL CHECK (action IN ('POWER_OFF')),
    channel      varchar(16) NOT NULL CHECK (channel IN ('TICKET', 'EMAIL', 'SIGNED_MESSAGE', 'TENANT_PAGE', 'PHONE')),
    proof        text NOT NULL,
    recorded_by  varchar(200) NOT NULL,
    recorded_at  timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    confirmed_by varchar(200),
    confirmed_at timestamptz,
    used_at      timestamptz
);
CREATE INDEX tenant_request_machine_idx ON tenant_request (machine_id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON machine_custody, bmc_intent, tenant_request TO ${app-role}';
        -- DELETE only for a lease that never started (its machines never held its data)
        EXECUTE 'GRANT DELETE ON machine_custody TO ${app-role}';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON bulk_plan_outcome, erase_tally, erase_tally_tenant TO ${app-role}';
    END IF;
END;
$$;
