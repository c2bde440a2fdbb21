-- A bulk erase starts at most metalgate.erase.max-concurrent machines ERASING at once: the plan's other machines
-- wait on it as QUEUED outcomes and are started by the conductor as erases end, each decided again under its
-- lock when it is started. The plan keeps who executed it (the actor of those later decisions) and the per-tenant
-- counts of its batch as they were at execution (the blast radius every later decision of it sees).
ALTER TABLE bulk_plan_outcome DROP CONSTRAINT bulk_plan_outcome_outcome_check;
ALTER TABLE bulk_plan_outcome ADD CONSTRAINT bulk_plan_outcome_outcome_check CHECK (outcome IN ('QUEUED', 'DONE', 'REFUSED', 'FAILED'));
CREATE INDEX bulk_plan_outcome_queued_idx ON bulk_plan_outcome (plan_id) WHERE outcome = 'QUEUED';
ALTER TABLE bulk_plan ADD COLUMN executed_by varchar(200);
ALTER TABLE bulk_plan ADD COLUMN batch_tenants text;
