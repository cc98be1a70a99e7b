-- =============================================================================================
-- 0011_kiosk_tenant.sql: schema v11 — what the kiosk's tenant screens need (issue 8).
--
-- Forward-only migration, run by the migrator inside its own write transaction (sql/README.md).
--
--  - The directory row (backoffice/sync/directory.h) gains the account's points (relay, control
--    mode, offline), its tariff in force today and the TOU split of each day's and month's
--    energy. The usage aggregates keep the slot energies of the charge intervals folded into
--    them; built = 0 makes the next refresh rebuild them from the readings (so existing rows get
--    their split) and republish every row with the new keys.
--  - New dirty marks: a relay read back differently (meter_state), a control mode set, a tariff
--    assigned, a new tariff version or a renamed tariff publish the accounts concerned again.
--  - Kiosk settings: the property office's phone and whether tenants must enter their PIN, site-
--    wide in settings, overridable per building (NULL = the site's).
--  - kiosk_events: what kiosks report (receipt printed or failed, printer state, heartbeat), one
--    row per event id, so a kiosk's outbox can send an event again and it is stored once.
-- =============================================================================================

ALTER TABLE sync_usage_daily   ADD COLUMN sharp_wh  INTEGER NOT NULL DEFAULT 0 CHECK (sharp_wh  >= 0);
ALTER TABLE sync_usage_daily   ADD COLUMN peak_wh   INTEGER NOT NULL DEFAULT 0 CHECK (peak_wh   >= 0);
ALTER TABLE sync_usage_daily   ADD COLUMN flat_wh   INTEGER NOT NULL DEFAULT 0 CHECK (flat_wh   >= 0);
ALTER TABLE sync_usage_daily   ADD COLUMN valley_wh INTEGER NOT NULL DEFAULT 0 CHECK (valley_wh >= 0);
ALTER TABLE sync_usage_monthly ADD COLUMN sharp_wh  INTEGER NOT NULL DEFAULT 0 CHECK (sharp_wh  >= 0);
ALTER TABLE sync_usage_monthly ADD COLUMN peak_wh   INTEGER NOT NULL DEFAULT 0 CHECK (peak_wh   >= 0);
ALTER TABLE sync_usage_monthly ADD COLUMN flat_wh   INTEGER NOT NULL DEFAULT 0 CHECK (flat_wh   >= 0);
ALTER TABLE sync_usage_monthly ADD COLUMN valley_wh INTEGER NOT NULL DEFAULT 0 CHECK (valley_wh >= 0);

UPDATE sync_state SET built = 0 WHERE id = 1;

-- The relay as the poller reads it back: only a change marks (meter_state is rewritten every poll).
CREATE TRIGGER sync_dirty_relay_insert AFTER INSERT ON meter_state
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT amp.account_id FROM meter_installations i
      JOIN account_metering_points amp ON amp.metering_point_id = i.metering_point_id AND amp.unlinked_at_ms IS NULL
     WHERE i.meter_id = new.meter_id AND i.removed_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_relay_update AFTER UPDATE OF relay_state ON meter_state
WHEN old.relay_state IS NOT new.relay_state
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT amp.account_id FROM meter_installations i
      JOIN account_metering_points amp ON amp.metering_point_id = i.metering_point_id AND amp.unlinked_at_ms IS NULL
     WHERE i.meter_id = new.meter_id AND i.removed_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_mode_insert AFTER INSERT ON control_settings
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT account_id FROM account_metering_points
     WHERE metering_point_id = new.metering_point_id AND unlinked_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_mode_update AFTER UPDATE OF control_mode ON control_settings
WHEN old.control_mode IS NOT new.control_mode
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT account_id FROM account_metering_points
     WHERE metering_point_id = new.metering_point_id AND unlinked_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

-- A tariff assigned to an account or one of its points (one taking effect on a later day is
-- picked up by the refresh of that day, which recomputes every row).
CREATE TRIGGER sync_dirty_tariff_assignment AFTER INSERT ON tariff_assignments
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT new.account_id WHERE new.account_id IS NOT NULL
    UNION
    SELECT account_id FROM account_metering_points
     WHERE new.metering_point_id IS NOT NULL AND metering_point_id = new.metering_point_id
       AND unlinked_at_ms IS NULL
    ON CONFLICT DO NOTHING;
END;

-- Every account that may show the tariff: assigned to it or to one of its current points.
CREATE TRIGGER sync_dirty_tariff_version AFTER INSERT ON tariff_versions
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT account_id FROM tariff_assignments WHERE tariff_id = new.tariff_id AND account_id IS NOT NULL
    UNION
    SELECT amp.account_id FROM tariff_assignments ta
      JOIN account_metering_points amp ON amp.metering_point_id = ta.metering_point_id AND amp.unlinked_at_ms IS NULL
     WHERE ta.tariff_id = new.tariff_id
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sync_dirty_tariff_name AFTER UPDATE OF name ON tariffs
WHEN old.name IS NOT new.name
BEGIN
    INSERT INTO sync_dirty (account_id)
    SELECT account_id FROM tariff_assignments WHERE tariff_id = new.id AND account_id IS NOT NULL
    UNION
    SELECT amp.account_id FROM tariff_assignments ta
      JOIN account_metering_points amp ON amp.metering_point_id = ta.metering_point_id AND amp.unlinked_at_ms IS NULL
     WHERE ta.tariff_id = new.id
    ON CONFLICT DO NOTHING;
END;

-- Kiosk settings (kiosk.profile): site-wide, and per building where set.
INSERT INTO settings (key, value, updated_at_ms) VALUES
    ('kiosk.office_phone', '',  unixepoch() * 1000),  -- the property office's phone; '' = none shown
    ('kiosk.pin_required', '0', unixepoch() * 1000);  -- 1: tenants enter their 4–6 digit PIN at the kiosk

ALTER TABLE buildings ADD COLUMN office_phone TEXT CHECK (length(office_phone) BETWEEN 1 AND 32);
                                                      -- NULL = 'kiosk.office_phone'
ALTER TABLE buildings ADD COLUMN kiosk_pin_required INTEGER CHECK (kiosk_pin_required IN (0, 1));
                                                      -- NULL = 'kiosk.pin_required'

-- One event a kiosk reported (kiosk.report). event_id is the kiosk's UUID for it: a repeat is
-- acknowledged and not stored again.
CREATE TABLE kiosk_events (
    id             INTEGER PRIMARY KEY,
    kiosk_id       INTEGER NOT NULL REFERENCES kiosks(id),
    event_id       TEXT    NOT NULL UNIQUE CHECK (length(event_id) = 36),
    kind           TEXT    NOT NULL CHECK (kind IN ('receipt_printed', 'receipt_failed', 'printer_state', 'heartbeat')),
    at_ms          INTEGER NOT NULL,                                       -- the kiosk's clock
    fields         TEXT    NOT NULL CHECK (json_valid(fields) AND json_type(fields) = 'object'),
    received_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX kiosk_events_kiosk ON kiosk_events(kiosk_id, id);
