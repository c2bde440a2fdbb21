-- How an integration's webhooks are signed: metalgate's (Stripe's) t=...,v1=<hex> header, or Zendesk's
-- base64(HMAC-SHA256(timestamp + body)) with the timestamp in <header>-Timestamp.
ALTER TABLE integration ADD COLUMN signature_scheme varchar(16) NOT NULL DEFAULT 'METALGATE'
    CHECK (signature_scheme IN ('METALGATE', 'ZENDESK'));
