-- =============================================================================================
-- 0008_refunds.sql: schema v8 — refunds of a QR top-up to its payer through the provider
-- (退电 to the original payment; backoffice/payments/refunds.h, refundservice.h).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md):
-- no transaction statements, no connection settings. Conventions as in 0001_initial.sql.
--
-- 0001 already holds the refunds table (out_refund_no stored before any provider call). This
-- adds what asking the providers needs (PAYMENT-PROVIDERS §3.8):
--  - the staff client's idempotency key and the hash of its request: the same key with the same
--    request is the same refund, with another request a conflict (§3.2, Stripe's rule);
--  - the driver's bookkeeping: when it acts next (next_action_at_ms: submit an approved refund,
--    query a submitted one; NULL = nothing scheduled), how often it asked (submit_count,
--    query_count), when it first asked (submitted_at_ms), and what the provider said last
--    (provider_answer) — which decides whether the next call is a query or the identical
--    refund call again, and whether a verified refusal is final;
--  - guards: a refunds row is never deleted (an out_refund_no is never reused), its identity
--    (out_refund_no, amount, channel, attempt, account) never changes, and a finished refund
--    (succeeded, failed, rejected) never changes state again.
-- =============================================================================================

ALTER TABLE refunds ADD COLUMN idempotency_key TEXT CHECK (idempotency_key IS NULL
                                                           OR length(idempotency_key) BETWEEN 1 AND 255);
ALTER TABLE refunds ADD COLUMN request_hash BLOB CHECK (request_hash IS NULL OR length(request_hash) = 32);
ALTER TABLE refunds ADD COLUMN submitted_at_ms INTEGER;
ALTER TABLE refunds ADD COLUMN submit_count INTEGER NOT NULL DEFAULT 0 CHECK (submit_count >= 0);
ALTER TABLE refunds ADD COLUMN query_count INTEGER NOT NULL DEFAULT 0 CHECK (query_count >= 0);
ALTER TABLE refunds ADD COLUMN next_action_at_ms INTEGER;
-- unknown     the call may or may not have taken effect (timeout, 5xx, unverifiable): query
-- processing  the provider has it and is still paying out: query
-- not_found   the provider has no such refund: the identical refund call again (same id)
-- rejected    a verified refusal after an earlier unknown answer: a query decides
-- abnormal    the provider could not pay it out (WeChat ABNORMAL): staff, via the alarm
ALTER TABLE refunds ADD COLUMN provider_answer TEXT CHECK (provider_answer IS NULL OR provider_answer IN
                                                           ('unknown', 'processing', 'not_found', 'rejected', 'abnormal'));

CREATE UNIQUE INDEX refunds_idempotency_key ON refunds(idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX refunds_attempt ON refunds(payment_attempt_id) WHERE payment_attempt_id IS NOT NULL;
CREATE INDEX refunds_next_action ON refunds(next_action_at_ms) WHERE next_action_at_ms IS NOT NULL;
CREATE INDEX refunds_pending_approval ON refunds(approval_id) WHERE state = 'pending_approval';

CREATE TRIGGER refunds_no_delete BEFORE DELETE ON refunds
BEGIN
    SELECT RAISE(ABORT, 'refunds are never deleted: an out_refund_no is never reused');
END;

CREATE TRIGGER refunds_identity_fixed BEFORE UPDATE OF out_refund_no, amount_fen, channel, payment_attempt_id,
                                                       account_id ON refunds
WHEN NEW.out_refund_no IS NOT OLD.out_refund_no OR NEW.amount_fen IS NOT OLD.amount_fen
  OR NEW.channel IS NOT OLD.channel OR NEW.payment_attempt_id IS NOT OLD.payment_attempt_id
  OR NEW.account_id IS NOT OLD.account_id
BEGIN
    SELECT RAISE(ABORT, 'a refund''s out_refund_no, amount, channel, attempt and account never change');
END;

CREATE TRIGGER refunds_final_states BEFORE UPDATE OF state ON refunds
WHEN OLD.state IN ('succeeded', 'failed', 'rejected') AND NEW.state IS NOT OLD.state
BEGIN
    SELECT RAISE(ABORT, 'a finished refund (succeeded, failed, rejected) never changes state');
END;
