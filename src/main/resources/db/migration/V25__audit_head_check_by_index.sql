-- The head's guard (V9) asked "is there an entry after the new head?" as EXISTS (... WHERE seq > NEW.seq). In a
-- PL/pgSQL trigger that query runs with a cached generic plan, which may scan audit_entry from its oldest row — and
-- the entries after the head, when any, are the newest: the check read the whole chain on every audit pass
-- (measured: an audit pass's insert grew from 0.9 ms to 3.7 ms over 50,000 entries, appends fell from 2,500/s to
-- 1,300/s within half a minute). The same rule, asked as the chain's highest sequence number (the primary key's
-- last entry: one index probe, whatever the plan).
CREATE OR REPLACE FUNCTION audit_head_follows_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq < OLD.seq OR (NEW.seq > 0 AND NOT EXISTS (SELECT 1 FROM audit_entry WHERE seq = NEW.seq AND hash = NEW.hash))
            OR coalesce((SELECT max(seq) FROM audit_entry), 0) > NEW.seq THEN
        RAISE EXCEPTION 'the audit head moves only forward, to the newest entry' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
