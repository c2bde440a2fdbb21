-- Sessions of the web console (form login). The browser holds a random token in an HttpOnly cookie; only its
-- SHA-256 is kept here, so a copy of the database signs no one in. A row is the whole session: logout deletes it,
-- so a stolen cookie dies with it (a stateless signed cookie would live until it expired). The CSRF token of the
-- session's forms is kept beside it (synchronizer token pattern).
CREATE TABLE console_session (
    token_hash   char(64) PRIMARY KEY,
    username     varchar(64) NOT NULL REFERENCES app_user (username) ON DELETE CASCADE,
    csrf_token   varchar(64) NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    remote       varchar(64)
);
CREATE INDEX console_session_user_idx ON console_session (username);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${app-role}') AND current_user <> '${app-role}' THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON console_session TO ${app-role}';
    END IF;
END;
$$;
