-- =============================================================================================
-- 0010_finding_freeze.sql: schema v10 — a credit the provider's bill does not show is frozen
-- until staff settle the finding.
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md).
--
-- The daily reconciliation (backoffice/payments/reconciliation.h) records credited_not_in_bill
-- when prepayd credited a payment that the provider's bill for that day does not have — a fault
-- or a fraud. The same transaction freezes the attempt: no refund of it is paid out (the money
-- may never have reached us) and the tenant's account cannot be closed (its balance would be
-- paid out) until a staff member settles the finding (payments.settle_finding), after asking the
-- provider. The wallet itself is NOT frozen: the tenant keeps the supply while staff look, and a
-- credit that proves wrong is reversed with ledger.reverse.
-- =============================================================================================

ALTER TABLE payment_attempts ADD COLUMN frozen_by_finding_id INTEGER REFERENCES payment_findings(id);
CREATE INDEX payment_attempts_frozen ON payment_attempts(frozen_by_finding_id) WHERE frozen_by_finding_id IS NOT NULL;

-- How staff settled a finding, in words (who and when are settled_by and settled_at_ms).
ALTER TABLE payment_findings ADD COLUMN settle_note TEXT;
