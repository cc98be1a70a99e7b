-- =============================================================================================
-- 0012_receipts.sql: schema v12 — receipts from the backoffice (issue 9; backoffice/receipts).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md):
-- no transaction statements, no connection settings. Conventions as in 0001_initial.sql.
--
--  - receipt_keys: the site's receipt secret, 32 random bytes made by prepayd the first time a
--    receipt is asked for (not here: a migration has no good randomness, and a database copied
--    before the first receipt must not share it by accident). The QR on every receipt carries
--    an HMAC-SHA256 under it (backoffice/receipts/verification.h), so staff can tell a genuine
--    receipt from an edited one. One row, never changed and never deleted: a receipt printed
--    years ago must still verify. It is never logged and never in an API answer.
--  - the property office's name printed on receipts (setting site.office_name; '' = none), next
--    to the office phone of 0011 (buildings.office_phone, else kiosk.office_phone).
-- =============================================================================================

CREATE TABLE receipt_keys (
    id             INTEGER PRIMARY KEY CHECK (id = 1),                     -- one secret per site
    secret         BLOB    NOT NULL CHECK (length(secret) = 32),
    created_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TRIGGER receipt_keys_no_update BEFORE UPDATE ON receipt_keys
BEGIN
    SELECT RAISE(ABORT, 'the receipt secret never changes: printed receipts must keep verifying');
END;

CREATE TRIGGER receipt_keys_no_delete BEFORE DELETE ON receipt_keys
BEGIN
    SELECT RAISE(ABORT, 'the receipt secret is never deleted: printed receipts must keep verifying');
END;

INSERT INTO settings (key, value, updated_at_ms) VALUES
    ('site.office_name', '', unixepoch() * 1000);  -- the property office on receipts; '' = none printed
