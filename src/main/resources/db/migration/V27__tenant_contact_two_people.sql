-- Where a tenant's notices go is where their proof comes from: the tenant's link (its acknowledgement is the strongest
-- proof) and the mail server's reply are only as good as the address. One person who could point a tenant's contact
-- address at a mailbox of theirs, send a notice and click its link would prove a notice the tenant never saw. So a
-- change of the address by a person is a proposal until a second, different person confirms it; the outbox keeps
-- sending to the address in force.
ALTER TABLE tenant ADD COLUMN contact_email_proposed varchar(320);
ALTER TABLE tenant ADD COLUMN contact_email_proposed_by varchar(128);
ALTER TABLE tenant ADD COLUMN contact_email_proposed_at timestamptz;
