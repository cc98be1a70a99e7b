-- =============================================================================================
-- 0001_initial.sql: schema v1 of the prepay database (one SQLite file, written by prepayd only).
--
-- Forward-only migration. The migrator in backoffice/store runs this file inside its own write
-- transaction and records schema version 1 itself, so the file holds no transaction statements
-- and no connection settings (sql/README.md).
-- SQLite 3.40.1 (Debian 12); every table is STRICT. Guide: docs/data-model.md.
--
-- Conventions (checked by CHECK constraints where a single row can check them):
--   money         INTEGER fen (0.01 CNY)                       name ends in _fen
--   energy        INTEGER Wh (meters count 0.01 kWh = 10 Wh)   name ends in _wh
--   price         INTEGER 0.0001 CNY/kWh (12100 = 1.2100)      name ends in _price / starts price_
--   power         INTEGER W                                    name ends in _w
--   time instant  INTEGER ms since the Unix epoch, UTC          name ends in _ms
--   duration      INTEGER ms                                   name ends in _ms
--   calendar date TEXT 'YYYY-MM-DD', local date in settings 'site.time_zone'
--   enum          TEXT lower_snake_case, closed set in a CHECK
--   boolean       INTEGER 0/1
--   hash, salt    BLOB (SHA-256 = 32 bytes)
--   JSON          TEXT, CHECK json_valid
-- Nothing here has a default timestamp: prepayd stamps rows from its injected Clock.
-- =============================================================================================


-- =============================================================================================
-- Site and devices
-- =============================================================================================

-- A building of the site (A, B, the basement B1); NULL overrides fall back to the site settings.
CREATE TABLE buildings (
    id                    INTEGER PRIMARY KEY,
    code                  TEXT    NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 8),  -- 'A', 'B1': prefix of point codes
    name                  TEXT    NOT NULL,
    poll_interval_ms      INTEGER CHECK (poll_interval_ms BETWEEN 60000 AND 86400000),    -- NULL = 'poll.interval_ms'
    alarm1_threshold_fen  INTEGER CHECK (alarm1_threshold_fen >= 0),                      -- NULL = 'alarm.alarm1_threshold_fen'
    alarm2_threshold_fen  INTEGER CHECK (alarm2_threshold_fen >= 0),                      -- NULL = 'alarm.alarm2_threshold_fen'
    overdraft_limit_fen   INTEGER CHECK (overdraft_limit_fen >= 0),                       -- NULL = 'control.overdraft_limit_fen'
    created_at_ms         INTEGER NOT NULL,
    CHECK (alarm2_threshold_fen <= alarm1_threshold_fen)
) STRICT;

-- A Modbus TCP <-> RS-485 gateway (communication manager, 通讯管理机) in a building.
CREATE TABLE gateways (
    id             INTEGER PRIMARY KEY,
    building_id    INTEGER NOT NULL REFERENCES buildings(id),
    name           TEXT    NOT NULL UNIQUE,
    host           TEXT    NOT NULL,                                       -- IP address or host name
    port           INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),      -- Modbus TCP port
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at_ms  INTEGER NOT NULL,
    UNIQUE (host, port)
) STRICT;
CREATE INDEX gateways_building ON gateways(building_id);

-- One RS-485 line, polled by one worker with one request in flight: a gateway's serial port or
-- a local serial device.
CREATE TABLE buses (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL UNIQUE,
    kind                 TEXT    NOT NULL CHECK (kind IN ('gateway_port', 'local_serial')),
    gateway_id           INTEGER REFERENCES gateways(id),                   -- gateway_port only
    port_index           INTEGER CHECK (port_index BETWEEN 1 AND 32),       -- gateway_port only: COM1 = 1
    tcp_port             INTEGER CHECK (tcp_port BETWEEN 1 AND 65535),      -- gateway_port only: this serial port's own
                                                                            --   TCP port; NULL = gateways.port, the
                                                                            --   gateway routes by unit id
    device_path          TEXT,                                              -- local_serial only: '/dev/ttyUSB0'
    baud                 INTEGER NOT NULL DEFAULT 9600
                                 CHECK (baud IN (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)),
    parity               TEXT    NOT NULL DEFAULT 'even' CHECK (parity IN ('none', 'even', 'odd')),
    stop_bits            INTEGER NOT NULL DEFAULT 1 CHECK (stop_bits IN (1, 2)),
    response_timeout_ms  INTEGER NOT NULL DEFAULT 500 CHECK (response_timeout_ms BETWEEN 50 AND 10000),
    enabled              INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at_ms        INTEGER NOT NULL,
    CHECK (   (kind = 'gateway_port' AND gateway_id IS NOT NULL AND port_index IS NOT NULL
                                     AND device_path IS NULL)
           OR (kind = 'local_serial' AND gateway_id IS NULL AND port_index IS NULL
                                     AND tcp_port IS NULL AND device_path IS NOT NULL)),
    UNIQUE (gateway_id, port_index)
) STRICT;
CREATE UNIQUE INDEX buses_device_path ON buses(device_path) WHERE device_path IS NOT NULL;

-- A physical meter, wherever it is: in stock, installed on a bus, or retired.
CREATE TABLE meters (
    id                 INTEGER PRIMARY KEY,
    serial_number      INTEGER NOT NULL UNIQUE
                               CHECK (serial_number BETWEEN 1 AND 4294967295),  -- u32 the meter reports (0x1002)
    model              TEXT    NOT NULL,                                       -- nameplate: 'DDSY1352-NK', 'ADL400'
    device_type        TEXT    NOT NULL CHECK (device_type IN ('single_phase', 'three_phase')),
    capability         TEXT    NOT NULL CHECK (capability IN ('prepaid', 'remote_only')),
                                        -- prepaid: holds its own balance (meter map blocks B-E);
                                        -- remote_only: Acrel-style, no balance, relay commands only
    has_tou_registers  INTEGER NOT NULL DEFAULT 1 CHECK (has_tou_registers IN (0, 1)),
                                        -- 0: billing splits the delta by poll time, marked estimated
    rated_current_ma   INTEGER NOT NULL CHECK (rated_current_ma > 0),                 -- Ib: 10(60)A -> 10000
    max_current_ma     INTEGER NOT NULL CHECK (max_current_ma >= rated_current_ma),   -- Imax: 10(60)A -> 60000
    state              TEXT    NOT NULL DEFAULT 'in_stock'
                               CHECK (state IN ('in_stock', 'installed', 'retired')),
    bus_id             INTEGER REFERENCES buses(id),                      -- installed only
    unit_id            INTEGER CHECK (unit_id BETWEEN 1 AND 247),         -- Modbus slave address; installed only
    comm_state         TEXT    NOT NULL DEFAULT 'unknown'
                               CHECK (comm_state IN ('unknown', 'online', 'offline')),   -- offline = 失联
    comm_failures      INTEGER NOT NULL DEFAULT 0 CHECK (comm_failures >= 0),           -- consecutive failed polls
    last_seen_ms       INTEGER,                                           -- last valid reply
    created_at_ms      INTEGER NOT NULL,
    CHECK (state <> 'installed' OR (bus_id IS NOT NULL AND unit_id IS NOT NULL)),
    CHECK (state =  'installed' OR (bus_id IS NULL     AND unit_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX meters_bus_unit ON meters(bus_id, unit_id) WHERE state = 'installed';


-- =============================================================================================
-- Accounts and metering
-- =============================================================================================

-- A shop's supply point ("A-3F-301"): what is billed. Physical meters come and go under it.
CREATE TABLE metering_points (
    id             INTEGER PRIMARY KEY,
    code           TEXT    NOT NULL UNIQUE,                                -- 'A-3F-301', 'B-12F-1205', 'B1-015'
    building_id    INTEGER NOT NULL REFERENCES buildings(id),
    floor          INTEGER NOT NULL CHECK (floor BETWEEN -9 AND 200 AND floor <> 0),   -- -1 = B1
    room           TEXT,
    meter_box      TEXT,                                                   -- multi-user box (多用户表箱); NULL = own meter
    description    TEXT,
    state          TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'retired')),
    created_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX metering_points_building ON metering_points(building_id, floor);

-- One physical meter serving one metering point for a while (a segment): history survives swaps.
-- Initial readings NULL = not recorded; the first valid reading then opens the segment uncharged.
CREATE TABLE meter_installations (
    id                  INTEGER PRIMARY KEY,
    metering_point_id   INTEGER NOT NULL REFERENCES metering_points(id),
    meter_id            INTEGER NOT NULL REFERENCES meters(id),
    installed_at_ms     INTEGER NOT NULL,
    removed_at_ms       INTEGER,                                           -- NULL = still installed
    initial_energy_wh   INTEGER CHECK (initial_energy_wh >= 0),
    initial_sharp_wh    INTEGER CHECK (initial_sharp_wh  >= 0),
    initial_peak_wh     INTEGER CHECK (initial_peak_wh   >= 0),
    initial_flat_wh     INTEGER CHECK (initial_flat_wh   >= 0),
    initial_valley_wh   INTEGER CHECK (initial_valley_wh >= 0),
    final_energy_wh     INTEGER CHECK (final_energy_wh   >= 0),            -- set on removal
    final_sharp_wh      INTEGER CHECK (final_sharp_wh    >= 0),
    final_peak_wh       INTEGER CHECK (final_peak_wh     >= 0),
    final_flat_wh       INTEGER CHECK (final_flat_wh     >= 0),
    final_valley_wh     INTEGER CHECK (final_valley_wh   >= 0),
    installed_by        INTEGER REFERENCES operators(id),
    removed_by          INTEGER REFERENCES operators(id),
    note                TEXT,
    CHECK (removed_at_ms IS NULL OR removed_at_ms >= installed_at_ms),
    CHECK (removed_at_ms IS NOT NULL OR final_energy_wh IS NULL),
    UNIQUE (id, meter_id, metering_point_id)                               -- target of readings' composite key
) STRICT;
CREATE UNIQUE INDEX meter_installations_open_point ON meter_installations(metering_point_id) WHERE removed_at_ms IS NULL;
CREATE UNIQUE INDEX meter_installations_open_meter ON meter_installations(meter_id)          WHERE removed_at_ms IS NULL;
CREATE INDEX        meter_installations_point      ON meter_installations(metering_point_id, installed_at_ms);

-- A tenant (户): who pays, what the kiosk shows; balance lives in its ledger wallet.
CREATE TABLE accounts (
    id                   INTEGER PRIMARY KEY,
    shop_no              TEXT    NOT NULL,                                 -- what the tenant enters at the kiosk
    display_name         TEXT    NOT NULL,                                 -- '闽味小馆'
    contact_name         TEXT,
    contact_phone        TEXT    CHECK (contact_phone NOT GLOB '*[^+0-9]*' AND length(contact_phone) BETWEEN 5 AND 20),
    sms_enabled          INTEGER NOT NULL DEFAULT 1 CHECK (sms_enabled IN (0, 1)),
    pin_hash             BLOB,                                             -- kiosk PIN (scrypt); NULL = no PIN
    pin_salt             BLOB    CHECK (pin_salt IS NULL OR length(pin_salt) >= 16),
    pin_params           TEXT,                                             -- KDF parameters, e.g. 'scrypt:N=32768,r=8,p=1'
    pin_failed_attempts  INTEGER NOT NULL DEFAULT 0 CHECK (pin_failed_attempts >= 0),
    pin_locked_until_ms  INTEGER,
    status               TEXT    NOT NULL DEFAULT 'not_opened'
                                 CHECK (status IN ('not_opened', 'open', 'closed')),
    opened_at_ms         INTEGER,
    closed_at_ms         INTEGER,
    note                 TEXT,
    created_at_ms        INTEGER NOT NULL,
    CHECK ((pin_hash IS NULL) = (pin_salt IS NULL) AND (pin_hash IS NULL) = (pin_params IS NULL)),
    CHECK (status <> 'not_opened' OR (opened_at_ms IS NULL AND closed_at_ms IS NULL)),
    CHECK (status <> 'open'       OR (opened_at_ms IS NOT NULL AND closed_at_ms IS NULL)),
    CHECK (status <> 'closed'     OR closed_at_ms IS NOT NULL),
    CHECK (closed_at_ms >= opened_at_ms)
) STRICT;
CREATE UNIQUE INDEX accounts_shop_no_live ON accounts(shop_no) WHERE status <> 'closed';
CREATE INDEX        accounts_phone        ON accounts(contact_phone);

-- Which account pays for a metering point, over time (an account may hold several points).
CREATE TABLE account_metering_points (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id),
    metering_point_id  INTEGER NOT NULL REFERENCES metering_points(id),
    linked_at_ms       INTEGER NOT NULL,
    unlinked_at_ms     INTEGER,                                            -- NULL = current
    CHECK (unlinked_at_ms IS NULL OR unlinked_at_ms >= linked_at_ms)
) STRICT;
CREATE UNIQUE INDEX account_metering_points_current ON account_metering_points(metering_point_id) WHERE unlinked_at_ms IS NULL;
CREATE INDEX        account_metering_points_account ON account_metering_points(account_id);

-- Control policy of a metering point (keyed by point, so a 保电 survives a meter swap).
-- NULL thresholds fall back to the building, then to the site settings.
CREATE TABLE control_settings (
    metering_point_id     INTEGER PRIMARY KEY REFERENCES metering_points(id),
    control_mode          TEXT    NOT NULL DEFAULT 'auto'
                                  CHECK (control_mode IN ('auto', 'force_on', 'force_off')),  -- force_on = 保电, force_off = 拉闸
    mode_reason           TEXT,                                            -- required unless auto
    mode_expires_at_ms    INTEGER,                                         -- back to auto when passed; NULL = until changed
    mode_set_by           INTEGER REFERENCES operators(id),
    mode_set_at_ms        INTEGER,
    overdraft_limit_fen   INTEGER CHECK (overdraft_limit_fen  >= 0),       -- AUTO trips at balance <= -limit
    alarm1_threshold_fen  INTEGER CHECK (alarm1_threshold_fen >= 0),       -- balance <= -> alarm 1
    alarm2_threshold_fen  INTEGER CHECK (alarm2_threshold_fen >= 0),       -- balance <= -> alarm 2
    friendly_hours        INTEGER NOT NULL DEFAULT 0 CHECK (friendly_hours IN (0, 1)),
                                  -- 1: AUTO never trips inside the 'control.friendly_*' window
    overload_limit_w      INTEGER CHECK (overload_limit_w >= 0),           -- pushed to the meter; NULL = not managed,
                                                                           --   0 = disabled on the meter
    updated_at_ms         INTEGER NOT NULL,
    CHECK (control_mode = 'auto' OR mode_reason IS NOT NULL),
    CHECK (control_mode <> 'auto' OR mode_expires_at_ms IS NULL),
    CHECK (alarm2_threshold_fen <= alarm1_threshold_fen)
) STRICT;
CREATE INDEX control_settings_expiry ON control_settings(mode_expires_at_ms) WHERE mode_expires_at_ms IS NOT NULL;


-- =============================================================================================
-- Tariffs
-- =============================================================================================

-- A named price plan ("商业分时电价"); its prices live in dated versions.
CREATE TABLE tariffs (
    id             INTEGER PRIMARY KEY,
    code           TEXT    NOT NULL UNIQUE,                                -- 'TOU-COM'
    name           TEXT    NOT NULL,
    description    TEXT,
    archived       INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),  -- 1 = not offered for new assignments
    created_at_ms  INTEGER NOT NULL
) STRICT;

-- One version of a tariff, in force from effective_date (local 00:00) until the next version.
-- A version that has taken effect is never edited: history must stay recomputable.
-- Flat and tiered kinds store the same price in all four slots (that is also what the meter gets).
CREATE TABLE tariff_versions (
    id                      INTEGER PRIMARY KEY,
    tariff_id               INTEGER NOT NULL REFERENCES tariffs(id),
    version                 INTEGER NOT NULL CHECK (version BETWEEN 1 AND 65535),  -- 1, 2, ... per tariff
    effective_date          TEXT    NOT NULL
                                    CHECK (effective_date GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                           AND date(effective_date) IS effective_date),
    kind                    TEXT    NOT NULL CHECK (kind IN ('flat', 'tou', 'tiered', 'tou_tiered')),
    price_sharp             INTEGER NOT NULL CHECK (price_sharp  > 0),     -- 尖, 0.0001 CNY/kWh
    price_peak              INTEGER NOT NULL CHECK (price_peak   > 0),     -- 峰, 0.0001 CNY/kWh
    price_flat              INTEGER NOT NULL CHECK (price_flat   > 0),     -- 平, 0.0001 CNY/kWh
    price_valley            INTEGER NOT NULL CHECK (price_valley > 0),     -- 谷, 0.0001 CNY/kWh
    tier_period             TEXT    CHECK (tier_period IN ('month', 'year')),          -- tiered kinds only
    standing_charge_fen     INTEGER CHECK (standing_charge_fen > 0),                   -- optional fixed charge
    standing_charge_period  TEXT    CHECK (standing_charge_period IN ('day', 'month')),
    note                    TEXT,
    created_by              INTEGER REFERENCES operators(id),
    created_at_ms           INTEGER NOT NULL,
    UNIQUE (tariff_id, version),
    UNIQUE (tariff_id, effective_date),
    CHECK (kind IN ('tou', 'tou_tiered')
           OR (price_sharp = price_flat AND price_peak = price_flat AND price_valley = price_flat)),
    CHECK ((kind IN ('tiered', 'tou_tiered')) = (tier_period IS NOT NULL)),
    CHECK ((standing_charge_fen IS NULL) = (standing_charge_period IS NULL))
) STRICT;

-- One TOU segment of a day schedule: from start_minute until the next segment's start (or 24:00).
-- Each day type of a TOU version starts at minute 0; at most 8 segments fit the meter.
CREATE TABLE tariff_day_segments (
    tariff_version_id  INTEGER NOT NULL REFERENCES tariff_versions(id),
    day_type           TEXT    NOT NULL CHECK (day_type IN ('workday', 'weekend', 'holiday')),
    start_minute       INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),   -- local minute of the day
    slot               TEXT    NOT NULL CHECK (slot IN ('sharp', 'peak', 'flat', 'valley')),
    PRIMARY KEY (tariff_version_id, day_type, start_minute)
) STRICT;

-- One tier (阶梯) of a tiered version: applies while the energy accumulated in the tier period is
-- below upper_bound_wh; the tier's adder is added to the slot price.
CREATE TABLE tariff_tiers (
    tariff_version_id  INTEGER NOT NULL REFERENCES tariff_versions(id),
    tier_no            INTEGER NOT NULL CHECK (tier_no BETWEEN 1 AND 9),   -- 1 = first tier; bounds ascend with tier_no
    upper_bound_wh     INTEGER CHECK (upper_bound_wh > 0),                 -- 1000 kWh = 1000000; NULL = last tier
    price_adder        INTEGER NOT NULL CHECK (price_adder >= 0),          -- 0.0001 CNY/kWh added to the slot price
    PRIMARY KEY (tariff_version_id, tier_no)
) STRICT;

-- A date whose day type differs from its weekday: a public holiday, or a weekend worked (调休).
CREATE TABLE calendar_days (
    day        TEXT NOT NULL PRIMARY KEY
                    CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]' AND date(day) IS day),
    day_type   TEXT NOT NULL CHECK (day_type IN ('holiday', 'workday')),
    name       TEXT NOT NULL                                               -- '春节', '春节调休上班'
) STRICT;

-- Puts a tariff on an account (all its points) or on one metering point (一表一价) from a date.
-- A point's own assignment wins over its account's; the latest effective_date <= day applies.
CREATE TABLE tariff_assignments (
    id                 INTEGER PRIMARY KEY,
    tariff_id          INTEGER NOT NULL REFERENCES tariffs(id),
    account_id         INTEGER REFERENCES accounts(id),
    metering_point_id  INTEGER REFERENCES metering_points(id),
    effective_date     TEXT    NOT NULL
                               CHECK (effective_date GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                      AND date(effective_date) IS effective_date),
    assigned_by        INTEGER REFERENCES operators(id),
    created_at_ms      INTEGER NOT NULL,
    CHECK ((account_id IS NULL) <> (metering_point_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX tariff_assignments_account ON tariff_assignments(account_id, effective_date)        WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX tariff_assignments_point   ON tariff_assignments(metering_point_id, effective_date) WHERE metering_point_id IS NOT NULL;


-- =============================================================================================
-- Readings and billing
-- =============================================================================================

-- One read of a meter's status block, after validation. Evidence: never deleted, and only the
-- review columns may change afterwards.
CREATE TABLE readings (
    id                     INTEGER PRIMARY KEY,
    installation_id        INTEGER NOT NULL,
    meter_id               INTEGER NOT NULL REFERENCES meters(id),
    metering_point_id      INTEGER NOT NULL REFERENCES metering_points(id),
    taken_at_ms            INTEGER NOT NULL,                               -- backoffice clock at the reply
    meter_time_ms          INTEGER,                                        -- meter clock (0x1026), NULL = not read
    source                 TEXT    NOT NULL CHECK (source IN ('poll', 'on_demand', 'verify', 'manual')),
    energy_total_wh        INTEGER NOT NULL CHECK (energy_total_wh  >= 0),
    energy_sharp_wh        INTEGER CHECK (energy_sharp_wh  >= 0),          -- slot registers; NULL = meter has none
    energy_peak_wh         INTEGER CHECK (energy_peak_wh   >= 0),
    energy_flat_wh         INTEGER CHECK (energy_flat_wh   >= 0),
    energy_valley_wh       INTEGER CHECK (energy_valley_wh >= 0),
    power_w                INTEGER,                                        -- total active power, signed
    balance_fen            INTEGER,                                        -- meter-side balance; NULL on remote_only
    purchase_count         INTEGER CHECK (purchase_count BETWEEN 0 AND 65535),
    total_purchased_fen    INTEGER CHECK (total_purchased_fen >= 0),
    consumed_total_fen     INTEGER CHECK (consumed_total_fen  >= 0),
    last_recharge_txn      INTEGER CHECK (last_recharge_txn BETWEEN 0 AND 4294967295),
    relay_state            TEXT    CHECK (relay_state IN ('closed', 'open')),             -- closed = supply on
    relay_mode             TEXT    CHECK (relay_mode  IN ('auto', 'force_on', 'force_off')),
    trip_reason            TEXT    CHECK (trip_reason IN ('none', 'arrears', 'overload', 'forced_off', 'other')),
    status_word            INTEGER CHECK (status_word BETWEEN 0 AND 65535),                -- raw bits, meter map §3
    tariff_version_active  INTEGER CHECK (tariff_version_active BETWEEN 0 AND 65535),
    validation             TEXT    NOT NULL CHECK (validation IN ('valid', 'rollover', 'reset_held', 'swap_held',
                                                                  'jump_held', 'frozen_flagged')),
                                   -- valid, rollover: chargeable; *_held: not charged until accepted;
                                   -- frozen_flagged: chargeable, energy unchanged while power > 0
    review_decision        TEXT    CHECK (review_decision IN ('accepted', 'rejected')),
    reviewed_by            INTEGER REFERENCES operators(id),
    reviewed_at_ms         INTEGER,
    review_note            TEXT,
    FOREIGN KEY (installation_id, meter_id, metering_point_id)
        REFERENCES meter_installations(id, meter_id, metering_point_id),
    CHECK ((review_decision IS NULL) = (reviewed_by IS NULL)
           AND (reviewed_by IS NULL) = (reviewed_at_ms IS NULL)),
    CHECK (review_decision IS NULL OR validation IN ('reset_held', 'swap_held', 'jump_held', 'frozen_flagged'))
) STRICT;
CREATE INDEX readings_point_time        ON readings(metering_point_id, taken_at_ms);
CREATE INDEX readings_meter_time        ON readings(meter_id, taken_at_ms);
CREATE INDEX readings_installation_time ON readings(installation_id, taken_at_ms);
CREATE INDEX readings_review_queue      ON readings(taken_at_ms)
    WHERE validation IN ('reset_held', 'swap_held', 'jump_held') AND review_decision IS NULL;

CREATE TRIGGER readings_no_delete BEFORE DELETE ON readings
BEGIN
    SELECT RAISE(ABORT, 'readings are evidence and cannot be deleted');
END;

CREATE TRIGGER readings_measured_values_fixed
BEFORE UPDATE OF id, installation_id, meter_id, metering_point_id, taken_at_ms, meter_time_ms, source,
                 energy_total_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh,
                 power_w, balance_fen, purchase_count, total_purchased_fen, consumed_total_fen,
                 last_recharge_txn, relay_state, relay_mode, trip_reason, status_word,
                 tariff_version_active, validation
ON readings
BEGIN
    SELECT RAISE(ABORT, 'readings are evidence: only the review columns may change');
END;

-- One charged span of a metering point: from the last charged reading (NULL = the segment's
-- start) to to_reading_id. Each reading ends at most one span and starts at most one (I4).
CREATE TABLE charge_intervals (
    id                       INTEGER PRIMARY KEY,
    metering_point_id        INTEGER NOT NULL REFERENCES metering_points(id),
    installation_id          INTEGER NOT NULL REFERENCES meter_installations(id),
    from_reading_id          INTEGER UNIQUE REFERENCES readings(id),
    to_reading_id            INTEGER NOT NULL UNIQUE REFERENCES readings(id),
    tariff_version_id        INTEGER NOT NULL REFERENCES tariff_versions(id),
    energy_wh                INTEGER NOT NULL CHECK (energy_wh        >= 0),    -- total delta
    energy_sharp_wh          INTEGER NOT NULL CHECK (energy_sharp_wh  >= 0),    -- delta per slot, as priced
    energy_peak_wh           INTEGER NOT NULL CHECK (energy_peak_wh   >= 0),
    energy_flat_wh           INTEGER NOT NULL CHECK (energy_flat_wh   >= 0),
    energy_valley_wh         INTEGER NOT NULL CHECK (energy_valley_wh >= 0),
    slots_estimated          INTEGER NOT NULL CHECK (slots_estimated IN (0, 1)),  -- 1: split by poll time
    amount_fen               INTEGER NOT NULL CHECK (amount_fen >= 0),          -- 0 = no ledger entry
    sub_fen_remainder_after  INTEGER NOT NULL CHECK (sub_fen_remainder_after BETWEEN 0 AND 99999),
    breakdown                TEXT    CHECK (breakdown IS NULL OR json_valid(breakdown)),   -- tier/slot lines
    created_at_ms            INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX charge_intervals_segment_start ON charge_intervals(installation_id) WHERE from_reading_id IS NULL;
CREATE INDEX        charge_intervals_point         ON charge_intervals(metering_point_id, id);

-- Billing cursor of a metering point: where charging stands, the sub-fen remainder and the tier
-- accumulators. One row per point, created with its first installation.
CREATE TABLE billing_state (
    metering_point_id         INTEGER PRIMARY KEY REFERENCES metering_points(id),
    installation_id           INTEGER NOT NULL REFERENCES meter_installations(id),   -- current segment
    last_charged_reading_id   INTEGER REFERENCES readings(id),             -- NULL = nothing charged in this segment
    sub_fen_remainder         INTEGER NOT NULL DEFAULT 0
                                      CHECK (sub_fen_remainder BETWEEN 0 AND 99999),
                                      -- in 0.00001 fen (= price unit x Wh): carried so that many small
                                      -- charges cost exactly what one big charge would
    tier_month                TEXT    CHECK (tier_month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),  -- 'YYYY-MM'
    tier_month_energy_wh      INTEGER NOT NULL DEFAULT 0 CHECK (tier_month_energy_wh >= 0),
    tier_year                 TEXT    CHECK (tier_year GLOB '[0-9][0-9][0-9][0-9]'),             -- 'YYYY'
    tier_year_energy_wh       INTEGER NOT NULL DEFAULT 0 CHECK (tier_year_energy_wh >= 0),
    standing_charged_through  TEXT    CHECK (standing_charged_through GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                                             AND date(standing_charged_through) IS standing_charged_through),
                                      -- last local day covered by standing charges
    updated_at_ms             INTEGER NOT NULL
) STRICT;


-- =============================================================================================
-- Ledger (double-entry, append-only)
--
-- Sign convention: ledger_postings.amount_fen > 0 is a CREDIT, < 0 is a DEBIT. A movement
-- "A -> B" of n fen posts -n on A and +n on B, and every entry's postings sum to zero.
-- balance_fen = sum of the account's postings, so wallets (and revenue, refunds payable) read
-- positive and a wallet's balance_fen is the tenant's balance (negative = overdraft), while the
-- clearing accounts read negative (-balance_fen = money the channel has taken in for us).
-- =============================================================================================

-- An account of the chart: a fixed system account, or one wallet per tenant account.
-- Never deleted; only balance_fen (the checked cache) and updated_at_ms change.
CREATE TABLE ledger_accounts (
    id             INTEGER PRIMARY KEY,
    code           TEXT    NOT NULL UNIQUE,                                -- 'clearing:alipay', 'wallet:42'
    kind           TEXT    NOT NULL CHECK (kind IN ('clearing', 'revenue', 'refunds_payable', 'adjustments',
                                                    'suspense', 'wallet')),
    channel        TEXT    CHECK (channel IN ('cash', 'alipay', 'wechat', 'unionpay')),    -- clearing only
    account_id     INTEGER UNIQUE REFERENCES accounts(id),                 -- wallet only: its tenant
    name           TEXT    NOT NULL,
    balance_fen    INTEGER NOT NULL DEFAULT 0,                             -- = sum(ledger_postings.amount_fen)
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    CHECK ((kind = 'clearing') = (channel IS NOT NULL)),
    CHECK ((kind = 'wallet')   = (account_id IS NOT NULL)),
    CHECK (kind <> 'wallet' OR code = 'wallet:' || account_id)
) STRICT;

CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
BEGIN
    SELECT RAISE(ABORT, 'ledger_accounts cannot be deleted');
END;

CREATE TRIGGER ledger_accounts_fixed_columns
BEFORE UPDATE OF id, code, kind, channel, account_id, name, created_at_ms ON ledger_accounts
BEGIN
    SELECT RAISE(ABORT, 'ledger_accounts: only balance_fen and updated_at_ms may change');
END;

-- One business event in the ledger (a journal entry). Corrections are new entries, never edits.
CREATE TABLE ledger_entries (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT    NOT NULL CHECK (kind IN ('recharge', 'charge', 'refund', 'reversal',
                                                         'transfer', 'adjustment')),
    idempotency_key     TEXT    NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 255),
                                -- 'recharge:attempt:17', 'charge:interval:9', 'op:<uuid>'
    request_hash        BLOB    NOT NULL CHECK (length(request_hash) = 32),
                                -- SHA-256 of the canonical request: same key + other hash = rejected
    reverses_entry_id   INTEGER UNIQUE REFERENCES ledger_entries(id),      -- reversal only; one per entry
    payment_attempt_id  INTEGER REFERENCES payment_attempts(id),           -- recharge (required)
    charge_interval_id  INTEGER UNIQUE REFERENCES charge_intervals(id),    -- energy charge
    refund_id           INTEGER REFERENCES refunds(id),                    -- refund (required)
    operator_id         INTEGER REFERENCES operators(id),                  -- staff who asked; NULL = prepayd
    approval_id         INTEGER REFERENCES approvals(id),                  -- second staff member, when required
    reason              TEXT,
    created_at_ms       INTEGER NOT NULL,
    CHECK ((kind = 'reversal') = (reverses_entry_id IS NOT NULL)),
    CHECK (kind <> 'recharge' OR payment_attempt_id IS NOT NULL),
    CHECK (kind <> 'refund'   OR refund_id IS NOT NULL),
    CHECK (kind NOT IN ('adjustment', 'transfer') OR (operator_id IS NOT NULL AND reason IS NOT NULL)),
    CHECK (kind <> 'reversal' OR reason IS NOT NULL)
) STRICT;
CREATE UNIQUE INDEX ledger_entries_one_credit_per_attempt ON ledger_entries(payment_attempt_id) WHERE kind = 'recharge';
CREATE INDEX        ledger_entries_created                ON ledger_entries(created_at_ms);

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;

CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;

-- One leg of an entry: a signed amount on one ledger account (> 0 credit, < 0 debit).
CREATE TABLE ledger_postings (
    id                 INTEGER PRIMARY KEY,
    entry_id           INTEGER NOT NULL REFERENCES ledger_entries(id),
    ledger_account_id  INTEGER NOT NULL REFERENCES ledger_accounts(id),
    amount_fen         INTEGER NOT NULL CHECK (amount_fen <> 0),
    UNIQUE (entry_id, ledger_account_id)
) STRICT;
CREATE INDEX ledger_postings_account ON ledger_postings(ledger_account_id, entry_id);

CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
BEGIN
    SELECT RAISE(ABORT, 'ledger_postings is append-only');
END;

CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
BEGIN
    SELECT RAISE(ABORT, 'ledger_postings is append-only');
END;

-- The fixed system accounts. Code looks them up by code; the ids are stable too.
INSERT INTO ledger_accounts (id, code, kind, channel, name, balance_fen, created_at_ms, updated_at_ms) VALUES
    (1, 'clearing:cash',     'clearing',        'cash',     '现金待清算',     0, unixepoch() * 1000, unixepoch() * 1000),
    (2, 'clearing:alipay',   'clearing',        'alipay',   '支付宝待清算',   0, unixepoch() * 1000, unixepoch() * 1000),
    (3, 'clearing:wechat',   'clearing',        'wechat',   '微信支付待清算', 0, unixepoch() * 1000, unixepoch() * 1000),
    (4, 'clearing:unionpay', 'clearing',        'unionpay', '云闪付待清算',   0, unixepoch() * 1000, unixepoch() * 1000),
    (5, 'revenue:energy',    'revenue',         NULL,       '电费收入',       0, unixepoch() * 1000, unixepoch() * 1000),
    (6, 'refunds:payable',   'refunds_payable', NULL,       '应付退款',       0, unixepoch() * 1000, unixepoch() * 1000),
    (7, 'adjustments',       'adjustments',     NULL,       '调账',           0, unixepoch() * 1000, unixepoch() * 1000),
    (8, 'suspense',          'suspense',        NULL,       '待查挂账',       0, unixepoch() * 1000, unixepoch() * 1000);


-- =============================================================================================
-- Payments
-- =============================================================================================

-- A tenant's top-up request (the business order) from a kiosk or a cashier; 1..N attempts.
CREATE TABLE topup_orders (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    amount_fen       INTEGER NOT NULL CHECK (amount_fen BETWEEN 1 AND 100000000),
    idempotency_key  TEXT    NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 255),  -- the client's key
    request_hash     BLOB    NOT NULL CHECK (length(request_hash) = 32),   -- same key + other hash = rejected
    kiosk_id         INTEGER REFERENCES kiosks(id),
    operator_id      INTEGER REFERENCES operators(id),                     -- cashier, for counter sales
    state            TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'paid', 'closed')),
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX topup_orders_account ON topup_orders(account_id, created_at_ms);

-- One try to collect an order through one channel, under our own out_trade_no. States follow
-- PAYMENT-PROVIDERS §3.4 and only move forward; closing/closed/expired_unknown -> paid is the
-- allowed "late success".
CREATE TABLE payment_attempts (
    id                   INTEGER PRIMARY KEY,
    order_id             INTEGER NOT NULL REFERENCES topup_orders(id),
    channel              TEXT    NOT NULL CHECK (channel IN ('cash', 'alipay', 'wechat', 'unionpay')),
    out_trade_no         TEXT    NOT NULL UNIQUE
                                 CHECK (length(out_trade_no) BETWEEN 6 AND 32 AND out_trade_no NOT GLOB '*[^A-Z0-9]*'),
    amount_fen           INTEGER NOT NULL CHECK (amount_fen BETWEEN 1 AND 100000000),
    state                TEXT    NOT NULL DEFAULT 'created'
                                 CHECK (state IN ('created', 'qr_issued', 'scanned', 'paid', 'credited',
                                                  'partially_refunded', 'refunded', 'closing', 'closed',
                                                  'expired_unknown', 'disputed')),
    provider_txn_id      TEXT,                                             -- trade_no / transaction_id
    provider_amount_fen  INTEGER CHECK (provider_amount_fen >= 0),         -- total the provider reported paid
    qr_payload           TEXT,
    expires_at_ms        INTEGER,
    late                 INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),      -- paid after the kiosk gave up
    flagged              INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),   -- needs a human look
    flag_reason          TEXT,
    query_count          INTEGER NOT NULL DEFAULT 0 CHECK (query_count >= 0),
    last_queried_at_ms   INTEGER,
    paid_at_ms           INTEGER,
    created_at_ms        INTEGER NOT NULL,
    updated_at_ms        INTEGER NOT NULL,
    UNIQUE (channel, provider_txn_id),
    CHECK (flagged = 0 OR flag_reason IS NOT NULL),
    CHECK (state NOT IN ('paid', 'credited', 'partially_refunded', 'refunded') OR paid_at_ms IS NOT NULL)
) STRICT;
CREATE INDEX payment_attempts_order ON payment_attempts(order_id);
CREATE INDEX payment_attempts_open  ON payment_attempts(expires_at_ms)
    WHERE state IN ('created', 'qr_issued', 'scanned', 'closing', 'expired_unknown');

-- A provider notification exactly as received, stored before verification (audit, replay
-- detection, re-processing). outcome holds the payments module's named outcome.
CREATE TABLE provider_events (
    id                  INTEGER PRIMARY KEY,
    channel             TEXT    NOT NULL CHECK (channel IN ('alipay', 'wechat', 'unionpay')),
    received_at_ms      INTEGER NOT NULL,
    remote_address      TEXT,
    headers             TEXT    NOT NULL,
    body                BLOB    NOT NULL,
    body_sha256         BLOB    NOT NULL CHECK (length(body_sha256) = 32),
    notify_id           TEXT,
    out_trade_no        TEXT,
    verification        TEXT    NOT NULL DEFAULT 'pending' CHECK (verification IN ('pending', 'valid', 'invalid')),
    outcome             TEXT,
    payment_attempt_id  INTEGER REFERENCES payment_attempts(id),
    processed_at_ms     INTEGER
) STRICT;
CREATE INDEX provider_events_out_trade_no ON provider_events(out_trade_no);
CREATE INDEX provider_events_received     ON provider_events(received_at_ms);

-- Money paid back to a tenant (退电), in cash or through the original payment's channel.
-- out_refund_no is stored before the provider call; retries reuse it.
CREATE TABLE refunds (
    id                  INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL REFERENCES accounts(id),
    channel             TEXT    NOT NULL CHECK (channel IN ('cash', 'alipay', 'wechat', 'unionpay')),
    payment_attempt_id  INTEGER REFERENCES payment_attempts(id),           -- original payment (provider refunds)
    out_refund_no       TEXT    NOT NULL UNIQUE
                                CHECK (length(out_refund_no) BETWEEN 6 AND 64 AND out_refund_no NOT GLOB '*[^A-Z0-9]*'),
    provider_refund_id  TEXT,
    amount_fen          INTEGER NOT NULL CHECK (amount_fen > 0),
    state               TEXT    NOT NULL DEFAULT 'pending_approval'
                                CHECK (state IN ('pending_approval', 'approved', 'submitted', 'succeeded',
                                                 'failed', 'rejected')),
    reason              TEXT    NOT NULL,
    requested_by        INTEGER NOT NULL REFERENCES operators(id),
    approval_id         INTEGER REFERENCES approvals(id),
    last_error          TEXT,
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    completed_at_ms     INTEGER,
    UNIQUE (channel, provider_refund_id),
    CHECK (channel = 'cash' OR payment_attempt_id IS NOT NULL)
) STRICT;
CREATE INDEX refunds_account ON refunds(account_id);


-- =============================================================================================
-- Meter commands
-- =============================================================================================

-- A durable command to one physical meter: queued -> sent -> acknowledged -> verified (read back),
-- or failed / cancelled. "The frame got through" (acknowledged) is not "the meter did it".
CREATE TABLE meter_commands (
    id                  INTEGER PRIMARY KEY,
    meter_id            INTEGER NOT NULL REFERENCES meters(id),
    kind                TEXT    NOT NULL CHECK (kind IN ('recharge', 'relay_close', 'relay_trip', 'set_mode',
                                                         'tariff_push', 'threshold_push', 'clock_sync',
                                                         'read_now')),
    state               TEXT    NOT NULL DEFAULT 'queued'
                                CHECK (state IN ('queued', 'sent', 'acknowledged', 'verified', 'failed',
                                                 'cancelled')),
    priority            INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),  -- 0 runs first; all jump routine polls
    payload             TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),   -- kind-specific arguments
    idempotency_key     TEXT    NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    correlation_id      TEXT,                                              -- ties commands of one business event
    cause               TEXT    NOT NULL CHECK (cause IN ('operator', 'policy', 'payment', 'schedule', 'system')),
    operator_id         INTEGER REFERENCES operators(id),
    approval_id         INTEGER REFERENCES approvals(id),
    reason              TEXT,
    ledger_entry_id     INTEGER UNIQUE REFERENCES ledger_entries(id),      -- recharge: the credit it delivers
    amount_fen          INTEGER CHECK (amount_fen BETWEEN 1 AND 100000000),        -- recharge: rc_amount
    purchase_seq        INTEGER CHECK (purchase_seq BETWEEN 0 AND 65535),          -- recharge: rc_seq, stored
                                                                                   --   before the first send
    recharge_txn        INTEGER CHECK (recharge_txn BETWEEN 0 AND 4294967295),     -- recharge: rc_txn
    attempts            INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts        INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    next_attempt_at_ms  INTEGER,                                           -- NULL = as soon as possible
    deadline_ms         INTEGER,                                           -- fail if not verified by then
    last_error          TEXT,
    created_at_ms       INTEGER NOT NULL,
    sent_at_ms          INTEGER,
    acknowledged_at_ms  INTEGER,
    verified_at_ms      INTEGER,
    finished_at_ms      INTEGER,                                           -- verified, failed or cancelled
    updated_at_ms       INTEGER NOT NULL,
    CHECK (cause <> 'operator' OR operator_id IS NOT NULL),
    CHECK ((kind = 'recharge') = (amount_fen IS NOT NULL)),
    CHECK (kind <> 'recharge' OR recharge_txn IS NOT NULL),
    CHECK (kind = 'recharge' OR (purchase_seq IS NULL AND recharge_txn IS NULL AND ledger_entry_id IS NULL)),
    CHECK (state <> 'verified' OR verified_at_ms IS NOT NULL),
    CHECK (state NOT IN ('verified', 'failed', 'cancelled') OR finished_at_ms IS NOT NULL)
) STRICT;
CREATE INDEX        meter_commands_due         ON meter_commands(priority, next_attempt_at_ms)
    WHERE state IN ('queued', 'sent', 'acknowledged');
CREATE INDEX        meter_commands_meter       ON meter_commands(meter_id, created_at_ms);
CREATE INDEX        meter_commands_correlation ON meter_commands(correlation_id) WHERE correlation_id IS NOT NULL;
CREATE UNIQUE INDEX meter_commands_txn         ON meter_commands(meter_id, recharge_txn) WHERE recharge_txn IS NOT NULL;


-- =============================================================================================
-- Alarms and notifications
-- =============================================================================================

-- One alarm episode: raised at a crossing, cleared when the condition ends (not one per poll).
-- The subject is polymorphic (subject_kind + id) so that one partial index can allow a single
-- open alarm per (kind, subject).
CREATE TABLE alarms (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('alarm1', 'alarm2', 'arrears', 'meter_offline',
                                                       'gateway_offline', 'command_failed', 'reading_held',
                                                       'balance_drift', 'purchase_count_drift', 'clock_drift',
                                                       'payment_disputed', 'payment_unmatched', 'kiosk_offline',
                                                       'printer_fault', 'audit_chain_broken')),
    severity          TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    subject_kind      TEXT    NOT NULL CHECK (subject_kind IN ('account', 'metering_point', 'meter', 'gateway',
                                                               'bus', 'kiosk', 'payment_attempt',
                                                               'meter_command', 'system')),
    subject_id        INTEGER NOT NULL,                                    -- id in the subject's table; 0 for system
    detail            TEXT    CHECK (detail IS NULL OR json_valid(detail)),   -- e.g. balance and threshold at crossing
    raised_at_ms      INTEGER NOT NULL,
    cleared_at_ms     INTEGER,
    acknowledged_by     INTEGER REFERENCES operators(id),
    acknowledged_at_ms  INTEGER,
    CHECK (cleared_at_ms IS NULL OR cleared_at_ms >= raised_at_ms),
    CHECK ((acknowledged_by IS NULL) = (acknowledged_at_ms IS NULL))
) STRICT;
CREATE UNIQUE INDEX alarms_one_open ON alarms(kind, subject_kind, subject_id) WHERE cleared_at_ms IS NULL;
CREATE INDEX        alarms_raised   ON alarms(raised_at_ms);

-- One SMS to send through the modem; not_before_ms honours the quiet hours.
CREATE TABLE sms_outbox (
    id                  INTEGER PRIMARY KEY,
    recipient           TEXT    NOT NULL CHECK (recipient NOT GLOB '*[^+0-9]*' AND length(recipient) BETWEEN 5 AND 20),
    body                TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 670),   -- up to 10 UCS-2 parts
    dedup_key           TEXT    UNIQUE,                                    -- e.g. 'alarm:42:13800000000'
    alarm_id            INTEGER REFERENCES alarms(id),
    account_id          INTEGER REFERENCES accounts(id),
    state               TEXT    NOT NULL DEFAULT 'queued'
                                CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts            INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    not_before_ms       INTEGER NOT NULL,
    last_error          TEXT,                                              -- '+CMS ERROR: 38'
    modem_refs          TEXT,                                              -- +CMGS message references
    created_at_ms       INTEGER NOT NULL,
    sent_at_ms          INTEGER,
    CHECK (state <> 'sent' OR sent_at_ms IS NOT NULL)
) STRICT;
CREATE INDEX sms_outbox_due ON sms_outbox(not_before_ms) WHERE state IN ('queued', 'sending');


-- =============================================================================================
-- Staff and audit
-- =============================================================================================

-- A staff member. No default account exists, ever: the first admin is created by prepayctl.
-- Operators are disabled, never deleted (the audit log points at them).
CREATE TABLE operators (
    id                    INTEGER PRIMARY KEY,
    login                 TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(login) BETWEEN 2 AND 64),
    display_name          TEXT    NOT NULL,
    role                  TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'cashier', 'technician', 'auditor')),
    password_hash         BLOB    NOT NULL CHECK (length(password_hash) >= 32),
    password_salt         BLOB    NOT NULL CHECK (length(password_salt) >= 16),
    password_params       TEXT    NOT NULL,                                -- 'scrypt:N=131072,r=8,p=1'
    must_change_password  INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
    failed_attempts       INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until_ms       INTEGER,
    disabled              INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    last_login_at_ms      INTEGER,
    created_at_ms         INTEGER NOT NULL,
    updated_at_ms         INTEGER NOT NULL
) STRICT;

-- Limits an operator to some buildings; an operator with no rows here sees every building.
CREATE TABLE operator_buildings (
    operator_id  INTEGER NOT NULL REFERENCES operators(id),
    building_id  INTEGER NOT NULL REFERENCES buildings(id),
    PRIMARY KEY (operator_id, building_id)
) STRICT;

-- A staff login session. Only a hash of the bearer token is stored.
CREATE TABLE staff_sessions (
    id              INTEGER PRIMARY KEY,
    operator_id     INTEGER NOT NULL REFERENCES operators(id),
    token_hash      BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    kiosk_id        INTEGER REFERENCES kiosks(id),                         -- staff mode on a kiosk
    source_address  TEXT,
    created_at_ms   INTEGER NOT NULL,
    last_seen_ms    INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,                                      -- absolute limit
    ended_at_ms     INTEGER,
    end_reason      TEXT    CHECK (end_reason IN ('logout', 'idle_timeout', 'expired', 'revoked')),
    CHECK ((ended_at_ms IS NULL) = (end_reason IS NULL))
) STRICT;
CREATE INDEX staff_sessions_operator ON staff_sessions(operator_id, created_at_ms);

-- A maker-checker request: one staff member asks, a different one decides (refunds, reversals,
-- adjustments, 保电, bulk commands, ...). payload is the exact action that will be executed.
CREATE TABLE approvals (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('refund', 'reversal', 'adjustment', 'transfer', 'force_on',
                                                      'force_off', 'bulk_command', 'tariff_change',
                                                      'account_close', 'operator_change')),
    payload          TEXT    NOT NULL CHECK (json_valid(payload)),
    reason           TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (state IN ('pending', 'approved', 'rejected', 'cancelled', 'expired',
                                              'executed')),
    requested_by     INTEGER NOT NULL REFERENCES operators(id),
    requested_at_ms  INTEGER NOT NULL,
    decided_by       INTEGER REFERENCES operators(id),
    decided_at_ms    INTEGER,
    decision_note    TEXT,
    expires_at_ms    INTEGER NOT NULL,
    executed_at_ms   INTEGER,
    CHECK (decided_by IS NULL OR decided_by <> requested_by),
    CHECK ((decided_by IS NULL) = (decided_at_ms IS NULL)),
    CHECK (state NOT IN ('approved', 'rejected', 'executed') OR decided_by IS NOT NULL),
    CHECK (state <> 'executed' OR executed_at_ms IS NOT NULL)
) STRICT;
CREATE INDEX approvals_pending ON approvals(requested_at_ms) WHERE state = 'pending';

-- One audited action, hash-chained: hash = SHA-256(prev_hash || canonical encoding of the row,
-- defined in backoffice/audit). Append-only. seq 1 has prev_hash = 32 zero bytes.
CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY,                                   -- 1, 2, 3, ... in chain order
    at_ms           INTEGER NOT NULL,
    operator_id     INTEGER REFERENCES operators(id),                      -- NULL = prepayd itself or a kiosk
    session_id      INTEGER REFERENCES staff_sessions(id),
    kiosk_id        INTEGER REFERENCES kiosks(id),
    source_address  TEXT,
    action          TEXT    NOT NULL,                                      -- 'ledger.adjust', 'control.force_on'
    subject_kind    TEXT,
    subject_id      TEXT,
    before_json     TEXT    CHECK (before_json IS NULL OR json_valid(before_json)),
    after_json      TEXT    CHECK (after_json  IS NULL OR json_valid(after_json)),
    reason          TEXT,
    correlation_id  TEXT,
    prev_hash       BLOB    NOT NULL UNIQUE CHECK (length(prev_hash) = 32), -- UNIQUE: the chain cannot fork
    hash            BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32)
) STRICT;
CREATE INDEX audit_log_at       ON audit_log(at_ms);
CREATE INDEX audit_log_operator ON audit_log(operator_id, at_ms);
CREATE INDEX audit_log_subject  ON audit_log(subject_kind, subject_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;


-- =============================================================================================
-- Kiosks and the event feed
-- =============================================================================================

-- An enrolled (or enrolling) kiosk device; it authenticates with its own client certificate.
CREATE TABLE kiosks (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT    NOT NULL UNIQUE,                        -- 'A座大堂'
    building_id            INTEGER REFERENCES buildings(id),
    state                  TEXT    NOT NULL DEFAULT 'pairing' CHECK (state IN ('pairing', 'enrolled', 'revoked')),
    pairing_code_hash      BLOB    CHECK (pairing_code_hash IS NULL OR length(pairing_code_hash) = 32),
    pairing_expires_at_ms  INTEGER,
    cert_fingerprint       BLOB    UNIQUE CHECK (cert_fingerprint IS NULL OR length(cert_fingerprint) = 32),
                                   -- SHA-256 of the client certificate (DER)
    enrolled_at_ms         INTEGER,
    revoked_at_ms          INTEGER,
    last_seen_ms           INTEGER,
    last_address           TEXT,
    app_version            TEXT,
    health                 TEXT    CHECK (health IS NULL OR json_valid(health)),   -- printer, paper, network
    created_at_ms          INTEGER NOT NULL,
    CHECK (state <> 'pairing'  OR (pairing_code_hash IS NOT NULL AND pairing_expires_at_ms IS NOT NULL)),
    CHECK (state <> 'enrolled' OR (cert_fingerprint IS NOT NULL AND enrolled_at_ms IS NOT NULL)),
    CHECK (state <> 'revoked'  OR revoked_at_ms IS NOT NULL)
) STRICT;

-- One server-push event. seq only grows (AUTOINCREMENT: never reused, even after pruning);
-- a client resumes from its last seq.
CREATE TABLE event_feed (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    topic    TEXT    NOT NULL,                                             -- 'account.balance', 'meter.status'
    payload  TEXT    NOT NULL CHECK (json_valid(payload)),
    at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX event_feed_at ON event_feed(at_ms);


-- =============================================================================================
-- Settings
-- =============================================================================================

-- One site-wide setting. Values are text; numbers in decimal, times of day 'HH:MM' local.
-- Building columns and control_settings override the defaults marked so in docs/data-model.md.
CREATE TABLE settings (
    key            TEXT    NOT NULL PRIMARY KEY CHECK (key GLOB '[a-z]*' AND key NOT GLOB '*[^a-z0-9_.]*'),
    value          TEXT    NOT NULL,
    updated_at_ms  INTEGER NOT NULL
) STRICT;

INSERT INTO settings (key, value, updated_at_ms) VALUES
    ('site.name',                        'prepay',        unixepoch() * 1000),
    ('site.time_zone',                   'Asia/Shanghai', unixepoch() * 1000),
    ('poll.interval_ms',                 '1800000',       unixepoch() * 1000),  -- full cycle every 30 min
    ('poll.fresh_max_age_ms',            '180000',        unixepoch() * 1000),  -- on-demand status within 3 min
    ('poll.offline_after_failures',      '3',             unixepoch() * 1000),
    ('poll.offline_probe_interval_ms',   '600000',        unixepoch() * 1000),
    ('alarm.alarm1_threshold_fen',       '5000',          unixepoch() * 1000),  -- 50.00 CNY
    ('alarm.alarm2_threshold_fen',       '2000',          unixepoch() * 1000),  -- 20.00 CNY
    ('control.overdraft_limit_fen',      '0',             unixepoch() * 1000),  -- trip at balance <= 0
    ('control.friendly_hours_start',     '22:00',         unixepoch() * 1000),
    ('control.friendly_hours_end',       '08:00',         unixepoch() * 1000),
    ('control.friendly_day_types',       'weekend,holiday', unixepoch() * 1000),
    ('control.relay_min_interval_ms',    '300000',        unixepoch() * 1000),  -- no relay chatter
    ('command.attempts_max',             '5',             unixepoch() * 1000),
    ('command.retry_base_ms',            '5000',          unixepoch() * 1000),
    ('command.retry_max_ms',             '600000',        unixepoch() * 1000),
    ('command.deadline_ms',              '86400000',      unixepoch() * 1000),
    ('payment.qr_timeout_ms',            '150000',        unixepoch() * 1000),
    ('payment.topup_min_fen',            '100',           unixepoch() * 1000),
    ('payment.topup_max_fen',            '500000',        unixepoch() * 1000),
    ('approval.money_threshold_fen',     '50000',         unixepoch() * 1000),
    ('approval.expiry_ms',               '86400000',      unixepoch() * 1000),
    ('sms.enabled',                      '0',             unixepoch() * 1000),
    ('sms.quiet_hours_start',            '22:00',         unixepoch() * 1000),
    ('sms.quiet_hours_end',              '08:00',         unixepoch() * 1000),
    ('sms.per_hour_max',                 '60',            unixepoch() * 1000),
    ('staff.session_idle_timeout_ms',    '900000',        unixepoch() * 1000),
    ('staff.session_max_ms',             '43200000',      unixepoch() * 1000),
    ('staff.login_failures_max',         '5',             unixepoch() * 1000),
    ('staff.lockout_ms',                 '900000',        unixepoch() * 1000),
    ('kiosk.idle_timeout_ms',            '60000',         unixepoch() * 1000),
    ('kiosk.pin_failures_max',           '5',             unixepoch() * 1000),
    ('kiosk.pin_lockout_ms',             '900000',        unixepoch() * 1000);
