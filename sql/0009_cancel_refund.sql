-- =============================================================================================
-- 0009_cancel_refund.sql: schema v9 — a payment the provider returned when we cancelled it.
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md).
--
-- Alipay's cancel (冲正, alipay.trade.cancel) of a trade the payer had just paid refunds it
-- (action=refund): the money is back with the payer. The attempt keeps when that happened; from
-- then on a success reported for it (a notification sent before the cancel, a stale bill row) is
-- never credited, and a credit made before the cancel's answer arrived is reversed by a
-- compensating entry (backoffice/payments/attempts.h recordCancelRefunded).
-- =============================================================================================

ALTER TABLE payment_attempts ADD COLUMN provider_reversed_at_ms INTEGER;
