-- Red-team findings on the erase path (decision 0013):
-- an agent's report counts only after the agent showed it runs on the machine's hardware (POST /api/agent/disks),
-- and only with the technique the appliance chose for each disk (POST /api/agent/technique), both per token.
ALTER TABLE boot_token ADD COLUMN hardware_confirmed_at timestamptz;
CREATE TABLE erase_choice (
    token_sha256  varchar(64)  NOT NULL REFERENCES boot_token (token_sha256),
    serial_number varchar(200) NOT NULL,
    technique     varchar(40)  NOT NULL,
    chosen_at     timestamptz  NOT NULL,
    PRIMARY KEY (token_sha256, serial_number)
);
-- a refusal's reason lists every disk: it must never be too long to be recorded (a rolled-back refusal loses it)
ALTER TABLE state_transition ALTER COLUMN reason TYPE text;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON erase_choice TO ${app-role}';
    END IF;
END;
$$;
