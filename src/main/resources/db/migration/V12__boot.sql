-- Network boot (issue 13): MACs that asked for a boot script and belong to no machine (for discovery), and the
-- one-time tokens an ERASING machine's boot script hands its erase agent (only their hash is kept).
CREATE TABLE boot_unknown_mac (
    mac        varchar(17) PRIMARY KEY,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    last_ip    varchar(64),
    requests   bigint NOT NULL DEFAULT 1
);

CREATE TABLE boot_token (
    token_sha256 varchar(64) PRIMARY KEY,
    machine_id   uuid NOT NULL REFERENCES machine (id),
    mac          varchar(17) NOT NULL,
    issued_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX boot_token_machine_idx ON boot_token (machine_id, issued_at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON boot_unknown_mac, boot_token TO ${app-role}';
    END IF;
END;
$$;

-- The MACs inspection found, each one machine's: how a booting machine is recognised.
CREATE TABLE machine_mac (
    mac        varchar(17) PRIMARY KEY,
    machine_id uuid NOT NULL REFERENCES machine (id) ON DELETE CASCADE
);
CREATE INDEX machine_mac_machine_idx ON machine_mac (machine_id);
INSERT INTO machine_mac (mac, machine_id)
    SELECT DISTINCT ON (lower(n->>'mac')) lower(n->>'mac'), m.id FROM machine m, jsonb_array_elements(m.inventory::jsonb->'nics') n
    WHERE m.inventory IS NOT NULL AND n->>'mac' ~* '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'
    ORDER BY lower(n->>'mac'), m.inspected_at
    ON CONFLICT DO NOTHING;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, DELETE ON machine_mac TO ${app-role}';
    END IF;
END;
$$;
