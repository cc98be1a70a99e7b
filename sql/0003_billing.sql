-- =============================================================================================
-- 0003_billing.sql: schema v3 — what billing, control and reconciliation keep (issue 5).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md):
-- no transaction statements, no connection settings. Conventions as in 0001_initial.sql.
--
--  - charge_intervals gain the account whose wallet paid (NULL = the point had no open account:
--    energy recorded, nothing charged) and a held mark (the interval ends at a reading held for
--    review: priced at zero until a person decides). Charged intervals become append-only.
--  - meter_installations gain the meter-side counters found when the meter was installed
--    (balance, purchases): the baseline of the meter ↔ ledger reconciliation and what a
--    takeover or a meter swap moves into the wallet.
--  - control_settings gain the "feeds infrastructure" mark (the gateway's own supply): never
--    tripped, whatever the balance.
--  - control_state: the control policy's last decision per point (on/off and why), so that
--    decisions are made once per crossing and carried out as durable commands.
--  - meter_reconciliation: per installation of a meter that holds its own balance, how far the
--    meter's purchases and consumption are from what the ledger delivered and charged.
-- =============================================================================================


-- ---------------------------------------------------------------------------------------------
-- Charges
-- ---------------------------------------------------------------------------------------------

ALTER TABLE charge_intervals ADD COLUMN account_id INTEGER REFERENCES accounts(id);
        -- the tenant charged; NULL = no open account on the point (amount_fen is then 0)
ALTER TABLE charge_intervals ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));
        -- 1: to_reading_id was held for review (reset, jump): energy and amount 0, the reading
        --    is the new baseline, and a person decides later what the held span cost

CREATE INDEX charge_intervals_installation ON charge_intervals(installation_id, id);

-- A charge is the evidence behind a ledger entry: never changed, never removed.
CREATE TRIGGER charge_intervals_no_update BEFORE UPDATE ON charge_intervals
BEGIN
    SELECT RAISE(ABORT, 'charge_intervals is append-only');
END;

CREATE TRIGGER charge_intervals_no_delete BEFORE DELETE ON charge_intervals
BEGIN
    SELECT RAISE(ABORT, 'charge_intervals is append-only');
END;


-- ---------------------------------------------------------------------------------------------
-- Meter-side counters at installation (meters that hold their own balance)
-- ---------------------------------------------------------------------------------------------

ALTER TABLE meter_installations ADD COLUMN initial_balance_fen INTEGER;                 -- NULL = not recorded
ALTER TABLE meter_installations ADD COLUMN initial_purchase_count INTEGER
        CHECK (initial_purchase_count BETWEEN 0 AND 65535);
ALTER TABLE meter_installations ADD COLUMN initial_purchased_fen INTEGER CHECK (initial_purchased_fen >= 0);
ALTER TABLE meter_installations ADD COLUMN final_balance_fen INTEGER;                   -- set on removal


-- ---------------------------------------------------------------------------------------------
-- Control
-- ---------------------------------------------------------------------------------------------

ALTER TABLE control_settings ADD COLUMN feeds_infrastructure INTEGER NOT NULL DEFAULT 0
        CHECK (feeds_infrastructure IN (0, 1));
        -- 1: the point feeds the gateway or other building infrastructure: never tripped

-- The control policy's last decision for a point (backoffice/control/policy.h). A new row or a
-- changed `desired` is a crossing: it bumps decision_seq, and the command that carries it out is
-- keyed by (point, decision_seq), so a decision is sent once however often it is re-evaluated.
CREATE TABLE control_state (
    metering_point_id  INTEGER PRIMARY KEY REFERENCES metering_points(id),
    desired            TEXT    NOT NULL CHECK (desired IN ('on', 'off')),
    reason             TEXT    NOT NULL CHECK (reason IN ('forced_on', 'forced_off', 'infrastructure',
                                                          'not_open', 'funded', 'arrears', 'friendly_hours',
                                                          'awaiting_credit')),
    decision_seq       INTEGER NOT NULL CHECK (decision_seq >= 1),
    balance_fen        INTEGER,                                            -- wallet when decided; NULL = no wallet
    decided_at_ms      INTEGER NOT NULL,                                   -- when desired last changed
    command_id         INTEGER REFERENCES meter_commands(id),              -- the last command sent for it
    updated_at_ms      INTEGER NOT NULL
) STRICT;


-- ---------------------------------------------------------------------------------------------
-- Meter ↔ ledger reconciliation (meters that hold their own balance)
-- ---------------------------------------------------------------------------------------------

-- One row per installation of a prepaid meter, from its baseline on (the counters recorded at
-- installation, else its first reading). Updated with every reading of the meter, in the
-- batch transaction. Drift beyond one interval's consumption raises an alarm.
CREATE TABLE meter_reconciliation (
    installation_id          INTEGER PRIMARY KEY REFERENCES meter_installations(id),
    meter_id                 INTEGER NOT NULL REFERENCES meters(id),
    baseline_reading_id      INTEGER REFERENCES readings(id),              -- NULL = installation's counters
    baseline_balance_fen     INTEGER NOT NULL,
    baseline_purchase_count  INTEGER NOT NULL CHECK (baseline_purchase_count BETWEEN 0 AND 65535),
    baseline_purchased_fen   INTEGER NOT NULL,
    baseline_consumed_fen    INTEGER,                                      -- NULL = counters only (takeover)
    charged_fen              INTEGER NOT NULL DEFAULT 0,                   -- ledger charges since the baseline
    last_reading_id          INTEGER REFERENCES readings(id),
    balance_drift_fen        INTEGER NOT NULL DEFAULT 0,                   -- meter − expected (+ = meter holds more)
    purchase_drift_fen       INTEGER NOT NULL DEFAULT 0,                   -- meter's purchases − recharges we sent
    purchase_count_drift     INTEGER NOT NULL DEFAULT 0,
    updated_at_ms            INTEGER NOT NULL
) STRICT;
CREATE INDEX meter_reconciliation_meter ON meter_reconciliation(meter_id);
