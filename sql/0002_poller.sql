-- =============================================================================================
-- 0002_poller.sql: schema v2 — what the poller keeps besides the readings (issue 4).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md):
-- no transaction statements, no connection settings. Conventions as in 0001_initial.sql.
--
--  - meter_state: the twin of each meter as the poller last saw it (last reading, balance and
--    purchase count on the meter, relay, online/offline since, last error), read by the API and
--    the kiosk. One row per meter, created by the recorder with the meter's first result.
--  - bus_health: per bus, the figures staff see (cycle time, error rate, offline meters).
--  - The link state moves off meters (comm_state, comm_failures, last_seen_ms): it changes
--    with every poll, and a table of physical meters should not be rewritten every cycle.
--  - readings gain the serial the meter reported and the validation's note, so a held reading
--    says to staff what was seen and why it was held.
-- =============================================================================================


-- The poller's view of one meter. Written only by the recorder (backoffice/poller), in the same
-- transaction as the readings it describes; a failed read updates the link columns only.
CREATE TABLE meter_state (
    meter_id              INTEGER PRIMARY KEY REFERENCES meters(id),
    last_reading_id       INTEGER REFERENCES readings(id),                  -- NULL = never read
    last_read_at_ms       INTEGER,                                          -- taken_at_ms of that reading
    energy_total_wh       INTEGER CHECK (energy_total_wh >= 0),             -- as read (the register × 10)
    power_w               INTEGER,                                          -- total active power, signed
    balance_fen           INTEGER,                                          -- meter-side; NULL on remote_only
    purchase_count        INTEGER CHECK (purchase_count BETWEEN 0 AND 65535),
    relay_state           TEXT    CHECK (relay_state IN ('closed', 'open')),
    relay_mode            TEXT    CHECK (relay_mode  IN ('auto', 'force_on', 'force_off')),
    trip_reason           TEXT    CHECK (trip_reason IN ('none', 'arrears', 'overload', 'forced_off',
                                                         'malignant_load', 'time_control')),
                                  -- the map's own names (readings fold the last two into 'other')
    status_word           INTEGER CHECK (status_word BETWEEN 0 AND 65535),
    comm_state            TEXT    NOT NULL CHECK (comm_state IN ('unknown', 'online', 'offline')),  -- offline = 失联
    comm_state_since_ms   INTEGER NOT NULL,
    consecutive_failures  INTEGER NOT NULL CHECK (consecutive_failures >= 0),
    last_error            TEXT,                                             -- for people: what failed
    last_error_code       TEXT,                                             -- 'timeout', 'exception_11', …
    last_error_at_ms      INTEGER,
    updated_at_ms         INTEGER NOT NULL,
    CHECK ((last_reading_id IS NULL) = (last_read_at_ms IS NULL)),
    CHECK ((last_error_code IS NULL) = (last_error_at_ms IS NULL))
) STRICT;
CREATE INDEX meter_state_offline ON meter_state(comm_state_since_ms) WHERE comm_state = 'offline';

-- One bus's figures, as its worker last reported them. Written by the recorder with a batch.
CREATE TABLE bus_health (
    bus_id                    INTEGER PRIMARY KEY REFERENCES buses(id),
    last_cycle_started_at_ms  INTEGER,                                      -- NULL = no cycle yet
    last_cycle_duration_ms    INTEGER NOT NULL CHECK (last_cycle_duration_ms >= 0),  -- 0 until one finished
    last_cycle_meters         INTEGER NOT NULL CHECK (last_cycle_meters >= 0),      -- reads attempted
    last_cycle_errors         INTEGER NOT NULL CHECK (last_cycle_errors >= 0),      -- of those, failed
    offline_meters            INTEGER NOT NULL CHECK (offline_meters >= 0),
    requests_total            INTEGER NOT NULL CHECK (requests_total >= 0),         -- since prepayd started
    errors_total              INTEGER NOT NULL CHECK (errors_total >= 0),
    updated_at_ms             INTEGER NOT NULL
) STRICT;

-- The link state now lives in meter_state. SQLite 3.35+ drops a column in place when nothing
-- but its own column constraints names it, which is the case for all three.
ALTER TABLE meters DROP COLUMN comm_state;
ALTER TABLE meters DROP COLUMN comm_failures;
ALTER TABLE meters DROP COLUMN last_seen_ms;

-- Evidence for staff: the serial the meter reported (NULL = the profile has none, e.g.
-- acrel-remote) and why a reading was held or flagged (NULL for plain valid readings).
ALTER TABLE readings ADD COLUMN serial_number INTEGER CHECK (serial_number BETWEEN 0 AND 4294967295);
ALTER TABLE readings ADD COLUMN validation_note TEXT;

-- The new columns are measured values too: only the review columns may change.
DROP TRIGGER readings_measured_values_fixed;
CREATE TRIGGER readings_measured_values_fixed
BEFORE UPDATE OF id, installation_id, meter_id, metering_point_id, taken_at_ms, meter_time_ms, source,
                 energy_total_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh,
                 power_w, balance_fen, purchase_count, total_purchased_fen, consumed_total_fen,
                 last_recharge_txn, relay_state, relay_mode, trip_reason, status_word,
                 tariff_version_active, validation, serial_number, validation_note
ON readings
BEGIN
    SELECT RAISE(ABORT, 'readings are evidence: only the review columns may change');
END;
