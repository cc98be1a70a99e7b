-- =============================================================================================
-- 0007_payments.sql: schema v7 — QR payments (issue 7; backoffice/payments, drivers/payments).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md):
-- no transaction statements, no connection settings. Conventions as in 0001_initial.sql.
--
-- 0001 already holds the money tables (topup_orders, payment_attempts, provider_events, refunds,
-- ledger_*). This adds what running the providers needs:
--  - payment_attempts: why the provider refused or why it is closed (last_error), when the kiosk
--    or the deadline gave the attempt up (abandoned_at_ms: a payment after it is a "late" one),
--    and when prepayd queries the provider next (next_query_at_ms: the poller's schedule,
--    PAYMENT-PROVIDERS §3.6 — +5 s, +10 s, then every 10–15 s; NULL = not scheduled);
--  - payment_suspense: genuine (verified) notifications for an out_trade_no we do not know,
--    acknowledged to the provider and kept for reconciliation (§3.5 step 5);
--  - provider_bills: each provider's daily bill, as downloaded (immutable, for audit);
--  - payment_findings: what the daily reconciliation found (§3.7), for staff to see and settle.
-- =============================================================================================

ALTER TABLE payment_attempts ADD COLUMN last_error TEXT;
ALTER TABLE payment_attempts ADD COLUMN abandoned_at_ms INTEGER;
ALTER TABLE payment_attempts ADD COLUMN next_query_at_ms INTEGER;
CREATE INDEX payment_attempts_next_query ON payment_attempts(next_query_at_ms) WHERE next_query_at_ms IS NOT NULL;

-- A verified notification nobody asked for: acknowledged, never credited by itself.
CREATE TABLE payment_suspense (
    id                 INTEGER PRIMARY KEY,
    channel            TEXT    NOT NULL CHECK (channel IN ('alipay', 'wechat', 'unionpay')),
    provider_event_id  INTEGER NOT NULL UNIQUE REFERENCES provider_events(id),
    out_trade_no       TEXT    NOT NULL,
    provider_txn_id    TEXT,
    amount_fen         INTEGER,
    trade_state        TEXT    NOT NULL,
    received_at_ms     INTEGER NOT NULL,
    resolved_at_ms     INTEGER,
    resolution         TEXT,
    CHECK ((resolved_at_ms IS NULL) = (resolution IS NULL))
) STRICT;
CREATE INDEX payment_suspense_open ON payment_suspense(received_at_ms) WHERE resolved_at_ms IS NULL;

-- A provider's bill for one local day, exactly as downloaded.
CREATE TABLE provider_bills (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL CHECK (channel IN ('alipay', 'wechat', 'unionpay')),
    bill_date       TEXT    NOT NULL CHECK (bill_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    raw             BLOB    NOT NULL,
    raw_sha256      BLOB    NOT NULL CHECK (length(raw_sha256) = 32),
    rows            INTEGER NOT NULL CHECK (rows >= 0),
    downloaded_at_ms INTEGER NOT NULL,
    UNIQUE (channel, bill_date)
) STRICT;

CREATE TRIGGER provider_bills_no_update BEFORE UPDATE ON provider_bills
BEGIN
    SELECT RAISE(ABORT, 'provider_bills are kept as downloaded');
END;

-- One difference the reconciliation of (channel, day) found between the provider's bill, our
-- attempts, the ledger and the meter jobs. kind (PAYMENT-PROVIDERS §3.7):
--   provider_paid_not_credited  the bill says paid, we had not credited (action: query, credit late)
--   credited_not_in_bill        we credited, the bill has no such payment (freeze, investigate)
--   amount_mismatch             the bill's amount differs from ours (dispute, by hand)
--   refund_mismatch             a refund differs (query the refund, compensate)
--   meter_not_recharged         credited, the meter job is not delivered (re-drive, alert)
--   double_payment              one top-up paid more than once (reported only: both credited)
--   unknown_in_bill             a bill row for an out_trade_no we never issued
CREATE TABLE payment_findings (
    id                  INTEGER PRIMARY KEY,
    channel             TEXT    NOT NULL CHECK (channel IN ('alipay', 'wechat', 'unionpay')),
    bill_date           TEXT    NOT NULL,
    kind                TEXT    NOT NULL CHECK (kind IN ('provider_paid_not_credited', 'credited_not_in_bill',
                                                         'amount_mismatch', 'refund_mismatch', 'meter_not_recharged',
                                                         'double_payment', 'unknown_in_bill')),
    out_trade_no        TEXT,
    payment_attempt_id  INTEGER REFERENCES payment_attempts(id),
    detail              TEXT    NOT NULL CHECK (json_valid(detail)),
    action              TEXT    NOT NULL,          -- what prepayd did or staff must do
    found_at_ms         INTEGER NOT NULL,
    settled_at_ms       INTEGER,
    settled_by          INTEGER REFERENCES operators(id),
    UNIQUE (channel, bill_date, kind, out_trade_no)
) STRICT;
CREATE INDEX payment_findings_open ON payment_findings(found_at_ms) WHERE settled_at_ms IS NULL;
