-- =============================================================================================
-- 0006_kiosk_sync.sql: schema v6 — the kiosk directory feed (issue 6, "Sync for kiosks";
-- backoffice/sync/publisher.h).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md):
-- no transaction statements, no connection settings. Conventions as in 0001_initial.sql.
--
-- Kiosks keep a replica of the account directory (shop number, display name, status colour,
-- balance, last reading time, daily usage of the last 31 local days and monthly usage of the
-- last 12 months). prepayd publishes it as a snapshot plus deltas: each account whose row
-- changed gets one event_feed row (topic 'directory.account') whose payload is the whole row.
-- A refresh runs every few seconds while billing writes 10,000 readings per batch, so it must
-- not recompute usage from the readings each time. This schema keeps:
--  - sync_directory: the rows as last published, and the seq that published each;
--  - sync_usage_daily / sync_usage_monthly: usage per account and local day / month, folded in
--    from readings and charge_intervals past a watermark (a day with a reading has a row, a day
--    without one has none: a gap, not a zero);
--  - sync_state: the watermarks (readings, charge_intervals, ledger_postings: append-only tables
--    whose ids only grow), the local day the windows were computed for, the time zone the days
--    are in, the feed's head seq and how far its events were pruned, and the feed id (changes
--    only with a new database, so a replica of another database is never patched);
--  - sync_dirty: accounts that changed through the cold tables (accounts, their point links,
--    meter installations, alarms), marked by the triggers below, so no refresh scans them.
--    The hot tables (readings, charge_intervals, ledger_postings) carry no trigger: the
--    watermarks find what is new there without adding work to every billing batch.
-- =============================================================================================


-- The directory as published. payload is the event payload that published the row (compact
-- JSON, backoffice/sync/directory.h); only accounts that are not closed have a row.
CREATE TABLE sync_directory (
    account_id     INTEGER PRIMARY KEY REFERENCES accounts(id),
    payload        TEXT    NOT NULL CHECK (json_valid(payload)),
    seq            INTEGER NOT NULL CHECK (seq >= 1),                   -- event_feed.seq that published it
    updated_at_ms  INTEGER NOT NULL
) STRICT;

-- Usage of one account on one local day (settings 'site.time_zone'): the readings of the points
-- it held when they were taken, and the charge intervals ending at those readings.
CREATE TABLE sync_usage_daily (
    account_id  INTEGER NOT NULL,                                         -- no FK: an aggregate, pruned with the window
    day         TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    readings    INTEGER NOT NULL CHECK (readings >= 0),
    energy_wh   INTEGER NOT NULL CHECK (energy_wh >= 0),
    amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
    PRIMARY KEY (account_id, day)
) STRICT, WITHOUT ROWID;

-- The same by local month.
CREATE TABLE sync_usage_monthly (
    account_id  INTEGER NOT NULL,
    month       TEXT    NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),   -- 'YYYY-MM'
    readings    INTEGER NOT NULL CHECK (readings >= 0),
    energy_wh   INTEGER NOT NULL CHECK (energy_wh >= 0),
    amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
    PRIMARY KEY (account_id, month)
) STRICT, WITHOUT ROWID;

-- Accounts to look at in the next refresh, marked by the triggers below.
CREATE TABLE sync_dirty (
    account_id  INTEGER PRIMARY KEY
) STRICT;

-- The publisher's cursors: one row.
CREATE TABLE sync_state (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    feed_id               TEXT    NOT NULL CHECK (length(feed_id) BETWEEN 8 AND 64),
    built                 INTEGER NOT NULL DEFAULT 0 CHECK (built IN (0, 1)),   -- 0: aggregates not built yet
    time_zone             TEXT,                                             -- the zone sync_usage_* days are in
    window_day            TEXT    CHECK (window_day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
                                  -- the local "today" the published windows end at
    readings_through_id   INTEGER NOT NULL DEFAULT 0,                       -- folded into sync_usage_*
    intervals_through_id  INTEGER NOT NULL DEFAULT 0,
    postings_through_id   INTEGER NOT NULL DEFAULT 0,                       -- their wallets looked at
    head_seq              INTEGER NOT NULL DEFAULT 0,                       -- last directory event (0 = none)
    pruned_through_seq    INTEGER NOT NULL DEFAULT 0,                       -- directory events ≤ this may be gone
    updated_at_ms         INTEGER NOT NULL,
    CHECK (pruned_through_seq <= head_seq)
) STRICT;

INSERT INTO sync_state (id, feed_id, updated_at_ms) VALUES (1, lower(hex(randomblob(16))), unixepoch() * 1000);

-- The directory's events in seq order without scanning the other topics.
CREATE INDEX event_feed_topic ON event_feed(topic, seq);


-- ---------------------------------------------------------------------------------------------
-- Dirty marks. Each trigger names the accounts whose published row the change may alter; the
-- refresh recomputes those rows and publishes only the ones that differ.
-- ---------------------------------------------------------------------------------------------

CREATE TRIGGER sync_dirty_account_insert AFTER INSERT ON accounts
BEGIN
    INSERT INTO sync_dirty (account_id) VALUES (new.id) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_account_update AFTER UPDATE OF shop_no, display_name, status ON accounts
BEGIN
    INSERT INTO sync_dirty (account_id) VALUES (new.id) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_link_insert AFTER INSERT ON account_metering_points
BEGIN
    INSERT INTO sync_dirty (account_id) VALUES (new.account_id) ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_link_update AFTER UPDATE ON account_metering_points
BEGIN
    INSERT INTO sync_dirty (account_id) VALUES (old.account_id) ON CONFLICT DO NOTHING;
    INSERT INTO sync_dirty (account_id) VALUES (new.account_id) ON CONFLICT DO NOTHING;
END;

-- A meter swap changes which meter's offline alarm counts for the point's account.
CREATE TRIGGER sync_dirty_installation_insert AFTER INSERT ON meter_installations
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT account_id FROM account_metering_points
     WHERE metering_point_id = new.metering_point_id AND unlinked_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_installation_update AFTER UPDATE OF removed_at_ms ON meter_installations
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT account_id FROM account_metering_points
     WHERE metering_point_id = new.metering_point_id AND unlinked_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

-- Balance alarms are on the metering point; meter_offline is on the meter (its current
-- installation's point). Raised: INSERT; cleared: UPDATE of cleared_at_ms.
CREATE TRIGGER sync_dirty_alarm_insert AFTER INSERT ON alarms
WHEN new.kind IN ('alarm1', 'alarm2', 'arrears', 'meter_offline')
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT amp.account_id FROM account_metering_points amp
     WHERE new.subject_kind = 'metering_point' AND amp.metering_point_id = new.subject_id
       AND amp.unlinked_at_ms IS NULL
    UNION
    SELECT amp.account_id FROM meter_installations i
      JOIN account_metering_points amp ON amp.metering_point_id = i.metering_point_id AND amp.unlinked_at_ms IS NULL
     WHERE new.subject_kind = 'meter' AND i.meter_id = new.subject_id AND i.removed_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_alarm_update AFTER UPDATE OF cleared_at_ms ON alarms
WHEN new.kind IN ('alarm1', 'alarm2', 'arrears', 'meter_offline')
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT amp.account_id FROM account_metering_points amp
     WHERE new.subject_kind = 'metering_point' AND amp.metering_point_id = new.subject_id
       AND amp.unlinked_at_ms IS NULL
    UNION
    SELECT amp.account_id FROM meter_installations i
      JOIN account_metering_points amp ON amp.metering_point_id = i.metering_point_id AND amp.unlinked_at_ms IS NULL
     WHERE new.subject_kind = 'meter' AND i.meter_id = new.subject_id AND i.removed_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;
