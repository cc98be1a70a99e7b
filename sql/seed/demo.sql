-- =============================================================================================
-- seed/demo.sql: the demo building, after DESIGN.md §7 (三明商会大厦, Sanming chamber of commerce).
--
-- Applied in one transaction on a freshly migrated database (any schema from v1), so it holds no
-- transaction statements and no connection settings. It relies on the fresh database: ids are
-- given or follow insertion order, and metering point n gets meter n and installation n.
--
-- Layout: buildings A and B (floors 1-4: 6 shops per floor, one meter each; floors 5-12: 12 units
-- per floor in two 6-way multi-user meter boxes) and the basement B1 (60 units, one meter each):
-- 120 + 120 + 60 = 300 metering points and meters. One gateway per building on 127.0.0.1
-- (ports 1502, 1503, 1504, as prepay-sim serves them); A and B have three buses of 40 meters,
-- B1 two buses of 30. Unit ids are unique per gateway, not only per bus (bus n uses 60(n-1)+1
-- upwards), so the simulator can route one TCP port per gateway by unit id.
--
-- Deliberately absent: operators (there is no default password, ever: create the first admin
-- with prepayctl), ledger entries (every wallet starts at 0.00 CNY until `prepayctl ledger
-- takeover` credits the balances the prepaid meters were installed with) and kiosks (enrol them).
-- =============================================================================================


UPDATE settings SET value = '三明商会大厦', updated_at_ms = unixepoch('2025-05-31 16:00:00') * 1000
 WHERE key = 'site.name';
-- The property office, on receipts and the kiosk's notices (settings of schema v11/v12: on an
-- older schema these touch no row).
UPDATE settings SET value = '三明商会大厦物业服务中心', updated_at_ms = unixepoch('2025-05-31 16:00:00') * 1000
 WHERE key = 'site.office_name';
UPDATE settings SET value = '0598-8231234', updated_at_ms = unixepoch('2025-05-31 16:00:00') * 1000
 WHERE key = 'kiosk.office_phone';


-- ---------------------------------------------------------------------------------------------
-- Site and devices. Commissioned 2025-06-01 00:00 +08:00 (= 2025-05-31 16:00 UTC).
-- ---------------------------------------------------------------------------------------------

-- The basement (cold store, food stalls) is polled every 15 minutes and warned earlier.
INSERT INTO buildings (id, code, name, poll_interval_ms, alarm1_threshold_fen, alarm2_threshold_fen,
                       overdraft_limit_fen, created_at_ms) VALUES
    (1, 'A',  'A座',          NULL,   NULL,  NULL, NULL, unixepoch('2025-05-31 16:00:00') * 1000),
    (2, 'B',  'B座',          NULL,   NULL,  NULL, NULL, unixepoch('2025-05-31 16:00:00') * 1000),
    (3, 'B1', '地下室 B1',    900000, 10000, 4000, NULL, unixepoch('2025-05-31 16:00:00') * 1000);

INSERT INTO gateways (id, building_id, name, host, port, created_at_ms) VALUES
    (1, 1, 'A座通讯管理机',   '127.0.0.1', 1502, unixepoch('2025-05-31 16:00:00') * 1000),
    (2, 2, 'B座通讯管理机',   '127.0.0.1', 1503, unixepoch('2025-05-31 16:00:00') * 1000),
    (3, 3, '地下室通讯管理机', '127.0.0.1', 1504, unixepoch('2025-05-31 16:00:00') * 1000);

-- 9600 baud 8E1, the simulator's default.
INSERT INTO buses (id, name, kind, gateway_id, port_index, baud, parity, stop_bits, created_at_ms) VALUES
    (1, 'A-COM1',  'gateway_port', 1, 1, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000),
    (2, 'A-COM2',  'gateway_port', 1, 2, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000),
    (3, 'A-COM3',  'gateway_port', 1, 3, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000),
    (4, 'B-COM1',  'gateway_port', 2, 1, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000),
    (5, 'B-COM2',  'gateway_port', 2, 2, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000),
    (6, 'B-COM3',  'gateway_port', 2, 3, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000),
    (7, 'B1-COM1', 'gateway_port', 3, 1, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000),
    (8, 'B1-COM2', 'gateway_port', 3, 2, 9600, 'even', 1, unixepoch('2025-05-31 16:00:00') * 1000);


-- ---------------------------------------------------------------------------------------------
-- Metering points: 'A-3F-301' (building-floor-room), 'B1-015' in the basement.
-- ---------------------------------------------------------------------------------------------

WITH RECURSIVE
    tower_floors(building_id, building_code, floor, units) AS (
        VALUES (1, 'A', 1, 6), (2, 'B', 1, 6)
        UNION ALL
        SELECT building_id, building_code, floor + 1, CASE WHEN floor + 1 <= 4 THEN 6 ELSE 12 END
          FROM tower_floors
         WHERE floor < 12
    ),
    all_floors(building_id, building_code, floor, units) AS (
        SELECT building_id, building_code, floor, units FROM tower_floors
        UNION ALL
        VALUES (3, 'B1', -1, 60)
    ),
    units(building_id, building_code, floor, unit_no, units) AS (
        SELECT building_id, building_code, floor, 1, units FROM all_floors
        UNION ALL
        SELECT building_id, building_code, floor, unit_no + 1, units
          FROM units
         WHERE unit_no < units
    )
INSERT INTO metering_points (code, building_id, floor, room, meter_box, created_at_ms)
SELECT CASE WHEN building_code = 'B1' THEN printf('B1-%03d', unit_no)
            ELSE printf('%s-%dF-%d%02d', building_code, floor, floor, unit_no) END,
       building_id,
       floor,
       CASE WHEN building_code = 'B1' THEN printf('%03d', unit_no)
            ELSE printf('%d%02d', floor, unit_no) END,
       CASE WHEN floor >= 5 THEN printf('%s-%dF-MB%d', building_code, floor, (unit_no - 1) / 6 + 1) END,
       unixepoch('2025-05-31 16:00:00') * 1000
  FROM units
 ORDER BY building_id, floor, unit_no;


-- ---------------------------------------------------------------------------------------------
-- Meters: one per metering point, with the same id.
--   three-phase: street-level shops (floor 1), the first unit of each upper floor, and the
--                first six basement units (cold store, kitchens); the rest single-phase.
--   remote_only: building B floors 9-10 were retrofitted with Acrel DIN meters (ADL200 has no
--                TOU registers, so its slots are estimated); every other meter is prepaid.
-- ---------------------------------------------------------------------------------------------

WITH
    placed AS (
        SELECT mp.id,
               mp.building_id,
               b.code                                                            AS building_code,
               mp.floor,
               CAST(mp.room AS INTEGER) % 100                                    AS unit_no,
               row_number() OVER (PARTITION BY mp.building_id ORDER BY mp.id) - 1 AS k,
               CASE b.code WHEN 'B1' THEN 30 ELSE 40 END                          AS per_bus
          FROM metering_points mp
          JOIN buildings b ON b.id = mp.building_id
    ),
    typed AS (
        SELECT p.*,
               p.k / p.per_bus + 1 AS port_index,
               CASE WHEN p.floor = 1
                      OR (p.floor >= 5 AND p.unit_no = 1)
                      OR (p.building_code = 'B1' AND p.unit_no <= 6)
                    THEN 'three_phase' ELSE 'single_phase' END AS device_type,
               CASE WHEN p.building_code = 'B' AND p.floor IN (9, 10)
                    THEN 'remote_only' ELSE 'prepaid' END AS capability
          FROM placed p
    )
INSERT INTO meters (id, serial_number, model, device_type, capability, has_tou_registers,
                    rated_current_ma, max_current_ma, state, bus_id, unit_id, created_at_ms)
SELECT t.id,
       CASE t.capability WHEN 'prepaid' THEN 24050000 + t.id * 17 ELSE 23110000 + t.id * 13 END,
       CASE WHEN t.capability = 'prepaid' AND t.device_type = 'single_phase' THEN 'DDSY1352-NK'
            WHEN t.capability = 'prepaid'                                    THEN 'DTSY1352-NK'
            WHEN t.device_type = 'single_phase'                              THEN 'ADL200'
            ELSE 'ADL400' END,
       t.device_type,
       t.capability,
       CASE WHEN t.capability = 'remote_only' AND t.device_type = 'single_phase' THEN 0 ELSE 1 END,
       10000,                                                              -- 10(60)A / 10(80)A
       CASE t.device_type WHEN 'three_phase' THEN 80000 ELSE 60000 END,
       'installed',
       bus.id,
       (t.port_index - 1) * 60 + t.k % t.per_bus + 1,
       unixepoch('2025-05-31 16:00:00') * 1000
  FROM typed t
  JOIN gateways g ON g.building_id = t.building_id
  JOIN buses bus  ON bus.gateway_id = g.id AND bus.port_index = t.port_index
 ORDER BY t.id;

-- Opening readings were not recorded: the first valid reading opens each segment uncharged.
-- The prepaid meters were taken over holding what their tenants had bought under the previous
-- system: 80.00..800.00 CNY in one purchase, derived from the meter id by Knuth's multiplicative
-- hash, once more mixed (x ^ x >> 15; SQLite has no XOR). drivers/sim/buildings/make-demo.sh
-- puts these counters on the simulated meters; `prepayctl ledger takeover` credits them to the
-- tenants' wallets.
WITH
    keyed AS (SELECT m.id, m.capability, (m.id * 2654435761) % 4294967296 AS k FROM meters m),
    hashed AS (SELECT id, capability, ((((k | (k >> 15)) - (k & (k >> 15))) * 2246822519) % 4294967296) AS h
                 FROM keyed)
INSERT INTO meter_installations (id, metering_point_id, meter_id, installed_at_ms, note,
                                 initial_balance_fen, initial_purchase_count, initial_purchased_fen)
SELECT mp.id, mp.id, mp.id, unixepoch('2025-05-31 16:00:00') * 1000, '初始安装',
       CASE WHEN h.capability = 'prepaid' THEN 8000 + h.h % 72001 END,
       CASE WHEN h.capability = 'prepaid' THEN 1 END,
       CASE WHEN h.capability = 'prepaid' THEN 8000 + h.h % 72001 END
  FROM metering_points mp
  JOIN hashed h ON h.id = mp.id
 ORDER BY mp.id;

INSERT INTO billing_state (metering_point_id, installation_id, updated_at_ms)
SELECT id, id, unixepoch('2025-05-31 16:00:00') * 1000
  FROM metering_points
 ORDER BY id;


-- ---------------------------------------------------------------------------------------------
-- Accounts (tenants). Named tenants first; every other point gets a generated tenant. Phone
-- numbers are fake.
-- ---------------------------------------------------------------------------------------------

-- Named tenants, opened 2025-06-02 10:00 +08:00; shop_no is the tenant's main point.
WITH
    named(shop_no, display_name, contact_name, contact_phone, note) AS (
        VALUES ('A-1F-101',   '闽味小馆',         '陈先生', '13805981101', '餐饮，两个表位'),
               ('A-1F-103',   '星河便利店',       '林女士', '13805981103', NULL),
               ('A-1F-104',   '沙县小吃',         '黄先生', '13805981104', '餐饮'),
               ('A-1F-105',   '茶香阁茶叶店',     '郑女士', '13805981105', NULL),
               ('A-1F-106',   '明珠眼镜',         '王先生', '13805981106', NULL),
               ('A-2F-201',   '悦己美发沙龙',     '李女士', '13805982201', NULL),
               ('A-2F-202',   '福茶轩茶餐厅',     '吴先生', '13805982202', '餐饮，两个表位'),
               ('A-3F-301',   '书香文具',         '张女士', '13805983301', NULL),
               ('A-4F-401',   '瑜伽生活馆',       '徐女士', '13805984401', NULL),
               ('A-5F-501',   '三明商会秘书处',   '周女士', '13805985501', '办公，两个表位'),
               ('A-8F-805',   '闽发律师事务所',   '何先生', '13805988805', '办公'),
               ('B-1F-101',   '万家福超市',       '罗先生', '13805991101', '超市，三个表位'),
               ('B-1F-104',   '客家土楼菜馆',     '谢先生', '13805991104', '餐饮'),
               ('B-1F-105',   '麦香烘焙',         '蔡女士', '13805991105', NULL),
               ('B-2F-201',   '童趣儿童乐园',     '许女士', '13805992201', NULL),
               ('B-3F-301',   '健身工坊',         '邓先生', '13805993301', NULL),
               ('B-9F-901',   '宏达会计师事务所', '曾女士', '13805999901', '办公，远程费控表'),
               ('B-12F-1205', '八闽科技有限公司', '彭先生', '13805991205', '办公'),
               ('B1-001',     '三明冷链仓储',     '苏先生', '13805990001', '冷库，三个表位，保电'),
               ('B1-010',     '老三明扁肉',       '潘女士', '13805990010', '餐饮'),
               ('B1-020',     '车库洗车房',       '叶先生', '13805990020', NULL)
    )
INSERT INTO accounts (shop_no, display_name, contact_name, contact_phone, status, opened_at_ms, note, created_at_ms)
SELECT shop_no, display_name, contact_name, contact_phone, 'open',
       unixepoch('2025-06-02 02:00:00') * 1000,
       note,
       unixepoch('2025-06-01 02:00:00') * 1000
  FROM named;

-- A-3F-302 changed hands: the café left on 2025-09-30, the book café opened on 2025-10-15.
INSERT INTO accounts (shop_no, display_name, contact_name, contact_phone, status, opened_at_ms, closed_at_ms,
                      note, created_at_ms) VALUES
    ('A-3F-302', '旧时光咖啡', '刘先生', '13805983302', 'closed',
     unixepoch('2025-06-02 02:00:00') * 1000, unixepoch('2025-09-30 04:00:00') * 1000,
     '已退租', unixepoch('2025-06-01 02:00:00') * 1000),
    ('A-3F-302', '拾光书咖',   '冯女士', '13805983312', 'open',
     unixepoch('2025-10-15 02:00:00') * 1000, NULL,
     '接手旧时光咖啡的铺位', unixepoch('2025-10-10 02:00:00') * 1000);

-- Named tenants' points: the shop_no point, plus the further points of multi-point tenants.
-- The closed tenant's link ended when it left.
WITH
    further_points(point_code, shop_no) AS (
        VALUES ('A-1F-102', 'A-1F-101'),
               ('A-2F-203', 'A-2F-202'),
               ('A-5F-502', 'A-5F-501'),
               ('B-1F-102', 'B-1F-101'),
               ('B-1F-103', 'B-1F-101'),
               ('B1-002',   'B1-001'),
               ('B1-003',   'B1-001')
    )
INSERT INTO account_metering_points (account_id, metering_point_id, linked_at_ms, unlinked_at_ms)
SELECT a.id, mp.id, a.opened_at_ms, a.closed_at_ms
  FROM accounts a
  JOIN metering_points mp ON mp.code = a.shop_no
UNION ALL
SELECT a.id, mp.id, a.opened_at_ms, NULL
  FROM further_points f
  JOIN accounts a         ON a.shop_no = f.shop_no
  JOIN metering_points mp ON mp.code   = f.point_code;

-- Generated tenants for every point still without a current tenant. Every 23rd point is a shop
-- whose account exists but is not opened yet (its supply is held off below).
INSERT INTO accounts (shop_no, display_name, contact_phone, status, opened_at_ms, created_at_ms)
SELECT mp.code,
       CASE WHEN mp.floor >= 5 THEN '办公室 ' ELSE '商铺 ' END || mp.code,
       printf('138%08d', 59800000 + mp.id),
       CASE WHEN mp.id % 23 = 0 THEN 'not_opened' ELSE 'open' END,
       CASE WHEN mp.id % 23 = 0 THEN NULL
            ELSE unixepoch('2025-06-02 02:00:00') * 1000 + (mp.id % 120) * 86400000 END,
       unixepoch('2025-06-01 02:00:00') * 1000
  FROM metering_points mp
 WHERE NOT EXISTS (SELECT 1 FROM account_metering_points amp
                    WHERE amp.metering_point_id = mp.id AND amp.unlinked_at_ms IS NULL)
 ORDER BY mp.id;

INSERT INTO account_metering_points (account_id, metering_point_id, linked_at_ms)
SELECT a.id, mp.id, coalesce(a.opened_at_ms, a.created_at_ms)
  FROM accounts a
  JOIN metering_points mp ON mp.code = a.shop_no
 WHERE a.status <> 'closed'
   AND NOT EXISTS (SELECT 1 FROM account_metering_points amp
                    WHERE amp.metering_point_id = mp.id AND amp.unlinked_at_ms IS NULL)
 ORDER BY a.id;

-- One wallet per account, empty: balances only ever come from ledger entries.
INSERT INTO ledger_accounts (code, kind, account_id, name, balance_fen, created_at_ms, updated_at_ms)
SELECT 'wallet:' || id, 'wallet', id, '钱包 ' || display_name, 0, created_at_ms, created_at_ms
  FROM accounts
 ORDER BY id;


-- ---------------------------------------------------------------------------------------------
-- Control settings, one row per point: the cold store is on 保电 (force_on), shops not opened
-- are held off (force_off), street-level shops keep friendly hours, the supermarket may
-- overdraw 200.00 CNY. Everything else uses the building and site defaults.
-- ---------------------------------------------------------------------------------------------

WITH
    point_tenant AS (
        SELECT mp.id AS point_id, mp.floor, a.shop_no, a.status
          FROM metering_points mp
          JOIN account_metering_points amp ON amp.metering_point_id = mp.id AND amp.unlinked_at_ms IS NULL
          JOIN accounts a                  ON a.id = amp.account_id
    )
INSERT INTO control_settings (metering_point_id, control_mode, mode_reason, mode_set_at_ms,
                              overdraft_limit_fen, friendly_hours, updated_at_ms)
SELECT point_id,
       CASE WHEN shop_no = 'B1-001'         THEN 'force_on'
            WHEN status  = 'not_opened'     THEN 'force_off'
            ELSE 'auto' END,
       CASE WHEN shop_no = 'B1-001'         THEN '冷库保电：冷链货物不得断电'
            WHEN status  = 'not_opened'     THEN '未开户'
            END,
       CASE WHEN shop_no = 'B1-001' OR status = 'not_opened'
            THEN unixepoch('2025-06-02 02:00:00') * 1000 END,
       CASE WHEN shop_no = 'B-1F-101'       THEN 20000 END,
       CASE WHEN floor = 1 THEN 1 ELSE 0 END,
       unixepoch('2025-06-02 02:00:00') * 1000
  FROM point_tenant
 ORDER BY point_id;


-- ---------------------------------------------------------------------------------------------
-- Tariffs (prices in 0.0001 CNY/kWh) and their assignment.
-- ---------------------------------------------------------------------------------------------

INSERT INTO tariffs (id, code, name, description, created_at_ms) VALUES
    (1, 'TOU-COM',    '商业分时电价',   'Commercial time-of-use: sharp/peak/flat/valley', unixepoch('2025-05-31 16:00:00') * 1000),
    (2, 'FLAT-COM',   '商业单一电价',   'Commercial flat rate',                           unixepoch('2025-05-31 16:00:00') * 1000),
    (3, 'TIER-SMALL', '小商户阶梯电价', 'Monthly tiers for small offices',                unixepoch('2025-05-31 16:00:00') * 1000);

INSERT INTO tariff_versions (id, tariff_id, version, effective_date, kind,
                             price_sharp, price_peak, price_flat, price_valley, tier_period, note, created_at_ms) VALUES
    -- 尖 1.2100, 峰 0.9800, 平 0.6500, 谷 0.3100 CNY/kWh
    (1, 1, 1, '2025-06-01', 'tou',    12100, 9800, 6500, 3100, NULL,    'demo prices', unixepoch('2025-05-31 16:00:00') * 1000),
    -- 0.8500 CNY/kWh around the clock
    (2, 2, 1, '2025-06-01', 'flat',    8500, 8500, 8500, 8500, NULL,    'demo prices', unixepoch('2025-05-31 16:00:00') * 1000),
    -- 0.7000 CNY/kWh plus the tier adder of the month's accumulated energy
    (3, 3, 1, '2025-06-01', 'tiered',  7000, 7000, 7000, 7000, 'month', 'demo prices', unixepoch('2025-05-31 16:00:00') * 1000);

-- TOU day schedules, each segment running until the next one starts.
--   workday: 00-08 valley, 08-10 flat, 10-12 sharp, 12-15 flat, 15-20 peak, 20-22 flat, 22-24 valley
--   weekend and holiday: 00-08 valley, 08-22 flat, 22-24 valley
INSERT INTO tariff_day_segments (tariff_version_id, day_type, start_minute, slot) VALUES
    (1, 'workday',     0, 'valley'),
    (1, 'workday',   480, 'flat'),
    (1, 'workday',   600, 'sharp'),
    (1, 'workday',   720, 'flat'),
    (1, 'workday',   900, 'peak'),
    (1, 'workday',  1200, 'flat'),
    (1, 'workday',  1320, 'valley'),
    (1, 'weekend',     0, 'valley'),
    (1, 'weekend',   480, 'flat'),
    (1, 'weekend',  1320, 'valley'),
    (1, 'holiday',     0, 'valley'),
    (1, 'holiday',   480, 'flat'),
    (1, 'holiday',  1320, 'valley');

-- Tiers by energy used in the calendar month: first 500 kWh +0, up to 2000 kWh +0.0500,
-- beyond +0.3000 CNY/kWh.
INSERT INTO tariff_tiers (tariff_version_id, tier_no, upper_bound_wh, price_adder) VALUES
    (3, 1,  500000,    0),
    (3, 2, 2000000,  500),
    (3, 3,    NULL, 3000);

-- Offices on floors 5-8 of building B are on the tiered tariff, every other tenant on TOU.
INSERT INTO tariff_assignments (tariff_id, account_id, effective_date, created_at_ms)
SELECT CASE WHEN mp.building_id = 2 AND mp.floor BETWEEN 5 AND 8 THEN 3 ELSE 1 END,
       a.id,
       '2025-06-01',
       unixepoch('2025-06-01 02:00:00') * 1000
  FROM accounts a
  JOIN metering_points mp ON mp.code = a.shop_no
 WHERE mp.building_id <> 3
 ORDER BY a.id;

-- The basement is priced per point (一表一价): flat rate.
INSERT INTO tariff_assignments (tariff_id, metering_point_id, effective_date, created_at_ms)
SELECT 2, id, '2025-06-01', unixepoch('2025-06-01 02:00:00') * 1000
  FROM metering_points
 WHERE building_id = 3
 ORDER BY id;


-- ---------------------------------------------------------------------------------------------
-- Holiday calendar: public holidays and the weekend days worked instead (调休), 2026 and New
-- Year 2027. Demo data after the State Council's 2026 schedule; check the official notice
-- before relying on it.
-- ---------------------------------------------------------------------------------------------

INSERT INTO calendar_days (day, day_type, name) VALUES
    ('2026-01-01', 'holiday', '元旦'),
    ('2026-01-02', 'holiday', '元旦'),
    ('2026-01-03', 'holiday', '元旦'),
    ('2026-01-04', 'workday', '元旦调休上班'),
    ('2026-02-14', 'workday', '春节调休上班'),
    ('2026-02-15', 'holiday', '春节'),
    ('2026-02-16', 'holiday', '春节'),
    ('2026-02-17', 'holiday', '春节'),
    ('2026-02-18', 'holiday', '春节'),
    ('2026-02-19', 'holiday', '春节'),
    ('2026-02-20', 'holiday', '春节'),
    ('2026-02-21', 'holiday', '春节'),
    ('2026-02-22', 'holiday', '春节'),
    ('2026-02-23', 'holiday', '春节'),
    ('2026-02-28', 'workday', '春节调休上班'),
    ('2026-04-04', 'holiday', '清明节'),
    ('2026-04-05', 'holiday', '清明节'),
    ('2026-04-06', 'holiday', '清明节'),
    ('2026-05-01', 'holiday', '劳动节'),
    ('2026-05-02', 'holiday', '劳动节'),
    ('2026-05-03', 'holiday', '劳动节'),
    ('2026-05-04', 'holiday', '劳动节'),
    ('2026-05-05', 'holiday', '劳动节'),
    ('2026-05-09', 'workday', '劳动节调休上班'),
    ('2026-06-19', 'holiday', '端午节'),
    ('2026-06-20', 'holiday', '端午节'),
    ('2026-06-21', 'holiday', '端午节'),
    ('2026-09-20', 'workday', '国庆节调休上班'),
    ('2026-09-25', 'holiday', '中秋节'),
    ('2026-09-26', 'holiday', '中秋节'),
    ('2026-09-27', 'holiday', '中秋节'),
    ('2026-10-01', 'holiday', '国庆节'),
    ('2026-10-02', 'holiday', '国庆节'),
    ('2026-10-03', 'holiday', '国庆节'),
    ('2026-10-04', 'holiday', '国庆节'),
    ('2026-10-05', 'holiday', '国庆节'),
    ('2026-10-06', 'holiday', '国庆节'),
    ('2026-10-07', 'holiday', '国庆节'),
    ('2026-10-10', 'workday', '国庆节调休上班'),
    ('2027-01-01', 'holiday', '元旦');
