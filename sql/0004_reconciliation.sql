-- =============================================================================================
-- 0004_reconciliation.sql: schema v4 — what the meter ↔ ledger reconciliation keeps between
-- cycles (backoffice/control/reconcile.h).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md):
-- no transaction statements, no connection settings. Conventions as in 0001_initial.sql.
--
-- v3's meter_reconciliation holds the baseline and the drifts. To stay cheap at every cycle
-- (10,000 meters per batch) the reconciliation is incremental: it remembers how far it has
-- read the installation's charge intervals and the meter's recharge commands, and what they
-- added up to, so each cycle reads only what is new. It also keeps what was in flight and the
-- tolerance it applied, so that a technician sees why a drift did or did not raise an alarm.
-- =============================================================================================

ALTER TABLE meter_reconciliation ADD COLUMN meter_cost_units INTEGER NOT NULL DEFAULT 0
        CHECK (meter_cost_units >= 0);
        -- Σ over the charge intervals since the baseline of slot energy × slot price, in
        -- 0.00001 fen (price unit × Wh): what the meter itself deducts for that energy. Tier
        -- adders and standing charges are the backoffice's, not the meter's, and are left out.
ALTER TABLE meter_reconciliation ADD COLUMN intervals_through_id INTEGER NOT NULL DEFAULT 0;
        -- charge_intervals of the installation up to this id are in charged_fen / meter_cost_units
ALTER TABLE meter_reconciliation ADD COLUMN commands_through_id INTEGER NOT NULL DEFAULT 0;
        -- the meter's recharge commands up to this id are finished and counted below
ALTER TABLE meter_reconciliation ADD COLUMN delivered_count INTEGER NOT NULL DEFAULT 0
        CHECK (delivered_count >= 0);
        -- recharges verified on the meter since the baseline (commands up to commands_through_id)
ALTER TABLE meter_reconciliation ADD COLUMN delivered_fen INTEGER NOT NULL DEFAULT 0
        CHECK (delivered_fen >= 0);
ALTER TABLE meter_reconciliation ADD COLUMN in_flight_count INTEGER NOT NULL DEFAULT 0
        CHECK (in_flight_count >= 0);
        -- recharges sent but not verified at the last reading: the meter may or may not have them
ALTER TABLE meter_reconciliation ADD COLUMN in_flight_fen INTEGER NOT NULL DEFAULT 0
        CHECK (in_flight_fen >= 0);
ALTER TABLE meter_reconciliation ADD COLUMN tolerance_fen INTEGER NOT NULL DEFAULT 0
        CHECK (tolerance_fen >= 0);
        -- the balance tolerance applied at the last reading (one interval's meter-side cost,
        -- at least the floor of reconcile.h)

-- The recharge commands of one meter in id order, without its relay, tariff and clock commands:
-- what the reconciliation reads past its cursor at every cycle.
CREATE INDEX meter_commands_recharges ON meter_commands(meter_id, id) WHERE kind = 'recharge';
