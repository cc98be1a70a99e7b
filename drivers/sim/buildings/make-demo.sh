#!/usr/bin/env bash
# Regenerates demo.json, the building prepay-sim plays by default, from the demo seed
# (sql/seed/demo.sql), so that the simulator and the database agree on every meter: serials,
# gateways in id order (gateway i is served on gateways.port), buses in id order, unit ids,
# device types, capability, TOU registers, models, currents and metering point codes.
#
# What the seed does not say is derived here, deterministically from the meter id:
#   profile      from the current tenant: not opened → idle, note 冷库 → cold_store,
#                note 餐饮 → restaurant, note 办公 or an "办公室" tenant → office, else retail
#   balance      prepaid meters: the seed's meter_installations.initial_balance_fen (80.00..800.00
#                CNY, one purchase of that amount)
#   energy       1000..9000 kWh on the register
#   relay_mode   the point's control_settings.control_mode (保电 cold store, unopened shops off)
#   tariff       the TOU-COM tariff, version 1, with its workday day schedule (a v1 meter has one)
#   thresholds   the site defaults; a building's own alarm thresholds and a point's own
#                overdraft/alarm/overload settings go on the meter
#
# Usage: drivers/sim/buildings/make-demo.sh [OUTPUT]   (default: demo.json next to this script)
# Needs bash, the sqlite3 CLI and a built prepayctl ($PREPAYCTL, default build/bin/prepayctl).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
prepayctl=${PREPAYCTL:-$root/build/bin/prepayctl}
output=${1:-$here/demo.json}

if [[ ! -x $prepayctl ]]; then
    echo "make-demo.sh: no prepayctl at $prepayctl (build it, or set PREPAYCTL)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/demo.db
"$prepayctl" db migrate --db "$db" >/dev/null
"$prepayctl" db seed demo --db "$db" >/dev/null

query() { sqlite3 -batch -noheader -bail "$db" "$@"; }

# A v1 meter keeps local time with a fixed offset; the seed's site is in China (no DST).
zone=$(query "SELECT value FROM settings WHERE key = 'site.time_zone'")
if [[ $zone != Asia/Shanghai ]]; then
    echo "make-demo.sh: site.time_zone is $zone; only Asia/Shanghai (+08:00) is known here" >&2
    exit 1
fi

{
    echo '{'
    query "SELECT printf('  \"name\": %s,', json_quote(value)) FROM settings WHERE key = 'site.name'"
    echo '  "utc_offset_minutes": 480,'
    echo '  "seed": 20250601,'
    query "
        SELECT printf('  \"tariff\": {\"version\": %d, \"prices\": {\"sharp\": %d, \"peak\": %d, \"flat\": %d, \"valley\": %d},',
                      tv.version, tv.price_sharp, tv.price_peak, tv.price_flat, tv.price_valley)
          FROM tariff_versions tv JOIN tariffs t ON t.id = tv.tariff_id
         WHERE t.code = 'TOU-COM' AND tv.version = 1"
    query "
        SELECT printf('             \"tou\": [%s]},', group_concat(segment, ', '))
          FROM (SELECT printf('[%d, \"%s\"]', s.start_minute, s.slot) AS segment
                  FROM tariff_day_segments s
                  JOIN tariff_versions tv ON tv.id = s.tariff_version_id
                  JOIN tariffs t ON t.id = tv.tariff_id
                 WHERE t.code = 'TOU-COM' AND tv.version = 1 AND s.day_type = 'workday'
                 ORDER BY s.start_minute)"
    query "
        SELECT printf('  \"thresholds\": {\"alarm1_fen\": %d, \"alarm2_fen\": %d, \"overdraft_limit_fen\": %d, '
                      || '\"overload_limit_w\": 0, \"overload_delay_s\": 10, \"overload_recover_delay_s\": 60, '
                      || '\"overload_max_trips\": 3, \"close_policy\": \"auto_close\"},',
                      (SELECT value FROM settings WHERE key = 'alarm.alarm1_threshold_fen'),
                      (SELECT value FROM settings WHERE key = 'alarm.alarm2_threshold_fen'),
                      (SELECT value FROM settings WHERE key = 'control.overdraft_limit_fen'))"
    echo '  "gateways": ['

    gateways=$(query "SELECT id FROM gateways ORDER BY id")
    last_gateway=$(tail -n1 <<<"$gateways")
    for gateway in $gateways; do
        echo '    {'
        query "SELECT printf('      \"name\": %s,', json_quote(name)) FROM gateways WHERE id = $gateway"
        echo '      "buses": ['
        buses=$(query "SELECT id FROM buses WHERE gateway_id = $gateway ORDER BY id")
        last_bus=$(tail -n1 <<<"$buses")
        for bus in $buses; do
            echo '        {'
            # 1 start bit + 8 data bits + parity bit (if any) + stop bits.
            query "
                SELECT printf('          \"name\": %s, \"baud\": %d, \"bits_per_char\": %d, '
                              || '\"turnaround_min_ms\": 10, \"turnaround_max_ms\": 30,',
                              json_quote(name), baud, 9 + (parity <> 'none') + stop_bits)
                  FROM buses WHERE id = $bus"
            echo '          "meters": ['
            query "
                WITH
                    tenant AS (
                        SELECT amp.metering_point_id AS point_id, a.status, a.note, a.display_name
                          FROM account_metering_points amp
                          JOIN accounts a ON a.id = amp.account_id
                         WHERE amp.unlinked_at_ms IS NULL
                    ),
                    placed AS (
                        SELECT m.*, i.initial_balance_fen, mp.code AS point_code, b.id AS building_id,
                               b.alarm1_threshold_fen AS b_alarm1, b.alarm2_threshold_fen AS b_alarm2,
                               b.overdraft_limit_fen AS b_overdraft,
                               cs.control_mode, cs.alarm1_threshold_fen AS p_alarm1,
                               cs.alarm2_threshold_fen AS p_alarm2, cs.overdraft_limit_fen AS p_overdraft,
                               cs.overload_limit_w AS p_overload,
                               CASE WHEN t.status IS NULL OR t.status = 'not_opened' THEN 'idle'
                                    WHEN t.note LIKE '%冷库%'                        THEN 'cold_store'
                                    WHEN t.note LIKE '%餐饮%'                        THEN 'restaurant'
                                    WHEN t.note LIKE '%办公%' OR t.display_name LIKE '办公室%' THEN 'office'
                                    ELSE 'retail' END AS profile,
                               -- Knuth's multiplicative hash of the meter id, once more
                               -- mixed (x ^ x >> 15, SQLite has no XOR): spread, stable.
                               (m.id * 2654435761) % 4294967296 AS k
                          FROM meters m
                          JOIN meter_installations i ON i.meter_id = m.id AND i.removed_at_ms IS NULL
                          JOIN metering_points mp    ON mp.id = i.metering_point_id
                          JOIN buildings b           ON b.id = mp.building_id
                          LEFT JOIN control_settings cs ON cs.metering_point_id = mp.id
                          LEFT JOIN tenant t         ON t.point_id = mp.id
                         WHERE m.bus_id = $bus AND m.state = 'installed'
                    ),
                    hashed AS (
                        SELECT p.*, ((((k | (k >> 15)) - (k & (k >> 15))) * 2246822519) % 4294967296) AS h
                          FROM placed p
                    ),
                    described AS (
                        SELECT p.*,
                               p.initial_balance_fen                  AS balance_fen,
                               (100000 + (p.h >> 8) % 800001) * 10  AS energy_wh,
                               trim(
                                     CASE WHEN coalesce(p_alarm1, b_alarm1) IS NOT NULL
                                          THEN printf(', \"alarm1_fen\": %d', coalesce(p_alarm1, b_alarm1)) ELSE '' END
                                  || CASE WHEN coalesce(p_alarm2, b_alarm2) IS NOT NULL
                                          THEN printf(', \"alarm2_fen\": %d', coalesce(p_alarm2, b_alarm2)) ELSE '' END
                                  || CASE WHEN coalesce(p_overdraft, b_overdraft) IS NOT NULL
                                          THEN printf(', \"overdraft_limit_fen\": %d', coalesce(p_overdraft, b_overdraft)) ELSE '' END
                                  || CASE WHEN p_overload IS NOT NULL
                                          THEN printf(', \"overload_limit_w\": %d', p_overload) ELSE '' END,
                                  ', ') AS own_thresholds
                          FROM hashed p
                    )
                SELECT printf('            {\"unit_id\": %d, \"serial\": %d, \"model\": %s, \"device_type\": \"%s\", '
                              || '\"capability\": \"%s\", \"has_tou_registers\": %s, \"rated_current_ma\": %d, '
                              || '\"max_current_ma\": %d, \"profile\": \"%s\", \"metering_point\": %s, %s'
                              || '\"energy_wh\": %d, \"relay_mode\": \"%s\"%s}%s',
                              unit_id, serial_number, json_quote(model), device_type, capability,
                              CASE has_tou_registers WHEN 1 THEN 'true' ELSE 'false' END,
                              rated_current_ma, max_current_ma, profile, json_quote(point_code),
                              CASE capability WHEN 'prepaid'
                                   THEN printf('\"balance_fen\": %d, \"purchase_count\": 1, \"total_purchased_fen\": %d, ',
                                               balance_fen, balance_fen)
                                   ELSE '' END,
                              energy_wh, coalesce(control_mode, 'auto'),
                              CASE WHEN own_thresholds <> '' AND capability = 'prepaid'
                                   THEN printf(', \"thresholds\": {%s}', own_thresholds) ELSE '' END,
                              CASE WHEN row_number() OVER (ORDER BY unit_id DESC) = 1 THEN '' ELSE ',' END)
                  FROM described
                 ORDER BY unit_id"
            echo '          ]'
            if [[ $bus == "$last_bus" ]]; then echo '        }'; else echo '        },'; fi
        done
        echo '      ]'
        if [[ $gateway == "$last_gateway" ]]; then echo '    }'; else echo '    },'; fi
    done
    echo '  ]'
    echo '}'
} >"$work/demo.json"

mv "$work/demo.json" "$output"
echo "wrote $output ($(grep -c '"unit_id"' "$output") meters)"
