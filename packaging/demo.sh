#!/usr/bin/env bash
# The whole prepay system on this machine with the simulated building (run by ./dev demo,
# after the build). Today that is: a fresh database holding the demo building (三明商会大厦,
# 300 meters on 3 gateways), the simulated gateways and meters (prepay-sim, RS-485 timing at
# 9600 baud, RTU ptys too), the meters' balances taken over into the ledger, a technician's read
# of a few meters with prepayctl, prepayd polling every meter into the database (its first full
# cycle shown with prepayctl poll status, and what the control policy decided: who is cut and
# why), prepayd restarted and its second cycle billing what was used since the first (a few
# seconds of real consumption: charges checked with ledger verify and billing recompute), the
# account lifecycle (a staff account; a shop opened, one closed and paid out in cash, a meter
# swapped in the simulator and replaced with prepayctl; prepayd restarted recharges the old
# meter's balance onto the new one), prepayd's API and health endpoint (the building's CA and
# server certificate made at first start, the one-time setup code of the first administrator,
# GET /health), staff actions over the API with prepayctl admin (the first administrator from the
# setup code, a cash top-up, a QR top-up of a cut-off shop through the payment providers' sandbox
# (prepay-sim pay: the QR from WeChat Pay's side, the phone's "Pay" played by prepay-sim tap, the
# credit and the relay closing on the simulated meter, 20.00 of it refunded to the payer), a
# refund waiting for a second person, an
# export), receipts (a private cupsd's queue: the QR top-up's receipt printed and read back, the
# refund slip, the receipt's QR verified by prepayd), an online backup
# verified while prepayd runs and the audit chain checked, and
# the kiosk's attract screen (in a window when there is a
# display, else rendered to a PNG). Each issue adds its part here.
#
#   packaging/demo.sh           run until Ctrl-C
#   packaging/demo.sh --check   start everything, check it came up, stop (used by the tests)
#
# Environment: PREPAY_BIN_DIR (default build/bin), PREPAY_DEMO_DIR (default build/demo),
# PREPAY_DEMO_PORT_BASE (default 1502: gateway i on base+i, the simulator's control on base+100).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${PREPAY_BIN_DIR:-$top/build/bin}
demo=${PREPAY_DEMO_DIR:-$top/build/demo}
port_base=${PREPAY_DEMO_PORT_BASE:-1502}
control_port=$((port_base + 100))
check=0
[ "${1:-}" = --check ] && check=1

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
. "$top/packaging/demo-printer.sh"

for b in prepayd prepayctl prepay-kiosk prepay-sim; do
    [ -x "$bin/$b" ] || die "$bin/$b is missing: build first (./dev build)"
done

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "fresh demo data in $demo"
rm -rf "$demo"
mkdir -p "$demo"
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then   # Qt wants one (the kiosk); a private one when the shell has none
    export XDG_RUNTIME_DIR=$demo/runtime
    mkdir -m 700 "$XDG_RUNTIME_DIR"
fi
db=$demo/prepay.db
"$bin/prepayctl" db migrate --db "$db"
"$bin/prepayctl" db seed demo --db "$db"
if [ "$port_base" != 1502 ]; then
    # The seed puts the gateways on 1502..1504; follow the simulator elsewhere.
    sqlite3 "$db" "UPDATE gateways SET port = $port_base + id - 1"
fi
"$bin/prepayctl" db status --db "$db"
say "commissioning: the prepaid meters' balances move into the tenants' wallets (prepayctl ledger takeover)"
"$bin/prepayctl" ledger takeover --db "$db"

say "starting the simulated building: prepay-sim (log: $demo/prepay-sim.log)"
mkdir -p "$demo/rtu"
"$bin/prepay-sim" meters --building demo --port-base "$port_base" --rtu --rtu-link-dir "$demo/rtu" \
    > "$demo/prepay-sim.out" 2> "$demo/prepay-sim.log" &
pids+=($!)
for _ in $(seq 100); do
    grep -qx ready "$demo/prepay-sim.out" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$demo/prepay-sim.log" >&2; die "prepay-sim exited"; }
    sleep 0.1
done
grep -qx ready "$demo/prepay-sim.out" || { cat "$demo/prepay-sim.log" >&2; die "prepay-sim did not come up"; }
sed -e '/^ready$/d' -e 's/^/  prepay-sim: /' "$demo/prepay-sim.out"

say "a technician reads two meters (prepayctl meter read; each read takes real RS-485 time)"
"$bin/prepayctl" meter read --tcp "127.0.0.1:$port_base" --unit 1
"$bin/prepayctl" meter read --rtu "$demo/rtu/A-COM1" --baud 9600 --unit 2 --json

# prepayd's API (TLS 1.3 WebSockets) and health endpoint: the defaults of packaging/prepayd.conf
# for the demo, ports beside the simulator's when it runs elsewhere (the tests' check).
api_port=7443
if [ "$port_base" != 1502 ]; then api_port=$((port_base + 200)); fi
health_port=$((api_port + 37))
notify_port=$((api_port + 2))
pay_port=8701
if [ "$port_base" != 1502 ]; then pay_port=$((port_base + 300)); fi
paykeys=$top/drivers/sim/pay/keys
pay=https://127.0.0.1:$pay_port
notify=https://127.0.0.1:$notify_port/notify
cat > "$demo/prepayd.conf" <<CONF
# written by packaging/demo.sh; every key is documented in packaging/prepayd.conf
[api]
listen_address = 127.0.0.1
staff_port = $api_port
kiosk_port = $((api_port + 1))
[health]
port = $health_port

# QR payments against the local provider sandbox (prepay-sim pay) and its own keys; its TLS CA
# is trusted for the providers' HTTPS, and the notify endpoint uses a certificate it issued.
[payments]
notify_listen_address = 127.0.0.1
notify_port = $notify_port
notify_tls_cert = $paykeys/tls-server.pem
notify_tls_key = $paykeys/tls-server.key
provider_ca_file = $paykeys/tls-ca.pem
[alipay]
gateway = $pay/gateway.do
app_id = 2021000000000001
seller_id = 2088000000000001
app_private_key_file = $paykeys/alipay-app.key
alipay_public_key_file = $paykeys/alipay-platform.pub
notify_url = $notify/alipay
[wechat]
base_url = $pay
mchid = 1900000109
appid = wxd678efh567hg6787
merchant_key_file = $paykeys/wechat-merchant.key
merchant_cert_file = $paykeys/wechat-merchant.pem
api_v3_key_file = $paykeys/wechat-apiv3.txt
platform_cert_files = $paykeys/wechat-platform-1.pem
notify_url = $notify/wechat
[unionpay]
gateway = $pay
mer_id = 777290058110048
sign_key_file = $paykeys/unionpay-merchant.key
sign_cert_file = $paykeys/unionpay-merchant.pem
root_cert_file = $paykeys/unionpay-root.pem
back_url = $notify/unionpay
CONF

say "starting the payment providers' sandbox: prepay-sim pay (Alipay, WeChat Pay, UnionPay; log: $demo/prepay-sim-pay.log)"
"$bin/prepay-sim" pay --port "$pay_port" --notify-ca "$paykeys/tls-ca.pem" \
    > "$demo/prepay-sim-pay.out" 2> "$demo/prepay-sim-pay.log" &
pids+=($!)
for _ in $(seq 100); do
    grep -qx ready "$demo/prepay-sim-pay.out" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$demo/prepay-sim-pay.log" >&2; die "prepay-sim pay exited"; }
    sleep 0.1
done
grep -qx ready "$demo/prepay-sim-pay.out" || { cat "$demo/prepay-sim-pay.log" >&2; die "prepay-sim pay did not come up"; }
sed -e '/^ready$/d' -e 's/^/  prepay-sim pay: /' "$demo/prepay-sim-pay.out"
health() {   # GET /health without curl: bash's /dev/tcp
    exec 3<>"/dev/tcp/127.0.0.1/$health_port"
    printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    sed -n '$p' <&3
    exec 3<&-
}

prepayd_pid=
start_prepayd() {   # LOG
    "$bin/prepayd" --data "$demo" --config "$demo/prepayd.conf" > "$1" 2>&1 &
    prepayd_pid=$!
    pids+=($prepayd_pid)
    for _ in $(seq 100); do
        grep -q ' ready: ' "$1" && break
        kill -0 "$prepayd_pid" 2>/dev/null || { cat "$1" >&2; die "prepayd exited"; }
        sleep 0.1
    done
    grep -q ' ready: ' "$1" || { cat "$1" >&2; die "prepayd did not come up"; }
    grep -v -e 'prepay.control' -e 'prepay.commands' "$1" | sed -n 's/^/  prepayd: /p'
}
wait_for_cycle() {   # SINCE_MS: every bus finished a cycle that started after SINCE_MS
    for _ in $(seq 600); do
        done_buses=$(sqlite3 "$db" "SELECT count(*) FROM bus_health WHERE last_cycle_duration_ms > 0
                                    AND last_cycle_started_at_ms >= $1" 2>/dev/null || echo 0)
        [ "$done_buses" -ge 8 ] && return 0
        sleep 0.1
    done
    die "a poll cycle did not finish within a minute (see $demo/prepayd*.log)"
}

say "starting prepayd (log: $demo/prepayd.log)"
start_prepayd "$demo/prepayd.log"
echo "  its first start created the building's CA and server certificate ($demo/pki):"
ls -l "$demo/pki" | sed -n 's/^\(-[^ ]*\).* \([a-z.]*\)$/    \1 \2/p'
echo "  GET http://127.0.0.1:$health_port/health:"
echo "    $(health)"

say "prepayd polls the building: one worker per bus, all 8 buses at once, RS-485 timing"
wait_for_cycle 0
"$bin/prepayctl" poll status --db "$db"

say "the control policy after the first cycle: who is off, and why (prepayctl control preview)"
"$bin/prepayctl" control preview --db "$db" | sed -n -e '1,4p' -e '$p'
echo "  commands the policy sent:"
sqlite3 "$db" "SELECT '    ' || kind || ' ' || state || ': ' || count(*) FROM meter_commands GROUP BY kind, state"
echo "  open alarms:"
sqlite3 "$db" "SELECT '    ' || kind || ': ' || count(*) FROM alarms WHERE cleared_at_ms IS NULL GROUP BY kind"

say "prepayd is restarted: it resumes, and its next cycle bills what the shops used since the first"
kill -TERM "$prepayd_pid"
wait "$prepayd_pid" || die "prepayd did not stop cleanly"
restart_ms=$(($(date +%s) * 1000))
start_prepayd "$demo/prepayd-2.log"
wait_for_cycle "$restart_ms"
sqlite3 "$db" "SELECT printf('  %d charge intervals, %d charged: %s CNY of energy (%d held for review, %d without an open account)',
                      count(*), sum(amount_fen > 0), printf('%.2f', sum(amount_fen) / 100.0), sum(held),
                      sum(account_id IS NULL AND held = 0)) FROM charge_intervals"
echo "  a tenant's charge (闽味小馆, A-1F-101):"
sqlite3 "$db" "SELECT '    ' || printf('%.2f kWh', ci.energy_wh / 1000.0) || ' → ' || printf('%.2f', ci.amount_fen / 100.0)
                      || ' CNY, wallet now ' || printf('%.2f', w.balance_fen / 100.0) || ' CNY; ' || ci.breakdown
                 FROM charge_intervals ci JOIN metering_points mp ON mp.id = ci.metering_point_id
                 JOIN ledger_accounts w ON w.account_id = ci.account_id
                WHERE mp.code = 'A-1F-101' ORDER BY ci.id DESC LIMIT 1"
"$bin/prepayctl" ledger verify --db "$db"
"$bin/prepayctl" billing recompute --db "$db"

say "the account lifecycle (prepayd stopped; prepayctl works on the file): a staff account, a shop opened, one closed and paid out, a meter replaced"
kill -TERM "$prepayd_pid"
wait "$prepayd_pid" || die "prepayd did not stop cleanly"
password=$(head -c 15 /dev/urandom | base64)
( umask 077; printf '%s\n' "$password" > "$demo/operator-password" )
printf '%s\n' "$password" | "$bin/prepayctl" operator add --db "$db" --login demo-ops --name "演示操作员" --role operator
echo "  (its password is in $demo/operator-password)"
"$bin/prepayctl" account open --db "$db" --shop A-4F-405 --tariff TOU-COM --phone 13800000000 --alarm1 50 --alarm2 20 \
    --operator demo-ops
"$bin/prepayctl" account close --db "$db" --shop A-1F-106 --operator demo-ops --reason "lease ended" --refund-cash
unit=$(sqlite3 "$db" "SELECT m.unit_id FROM meters m JOIN meter_installations i ON i.meter_id = m.id AND i.removed_at_ms IS NULL
                      JOIN metering_points p ON p.id = i.metering_point_id WHERE p.code = 'A-1F-103'")
echo "  a technician swaps the meter of A-1F-103 (gateway 0, unit $unit) for a new one, serial 99000103:"
"$bin/prepay-sim" ctl --control-port "$control_port" fault add swap --gateway 0 --unit "$unit" --new-serial 99000103 \
    | sed 's/^/    prepay-sim: /'
"$bin/prepayctl" meter replace --db "$db" --point A-1F-103 --new-serial 99000103 --operator demo-ops \
    --new-initial 0:0,0,0,0 --new-balance 0 --new-purchase-count 0
restart_ms=$(($(date +%s) * 1000))
start_prepayd "$demo/prepayd-3.log"
wait_for_cycle "$restart_ms"
for _ in $(seq 100); do   # the balance recharge is the first command prepayd drives
    [ "$(sqlite3 "$db" "SELECT count(*) FROM meter_commands WHERE idempotency_key LIKE 'replace:%' AND state = 'verified'")" = 1 ] && break
    sleep 0.1
done
sqlite3 "$db" "SELECT '  after the restart: ' || kind || ' of ' || printf('%.2f', amount_fen / 100.0) || ' CNY to meter '
                      || m.serial_number || ': ' || c.state FROM meter_commands c JOIN meters m ON m.id = c.meter_id
                WHERE idempotency_key LIKE 'replace:%'"
"$bin/prepayctl" meter read --tcp "127.0.0.1:$port_base" --unit "$unit" | grep -E 'serial|balance|purchase|relay' | sed 's/^/    /'
"$bin/prepayctl" ledger verify --db "$db"

say "staff work through prepayd's API (TLS 1.3, the building's CA): the first administrator from the setup code, a cash top-up, a refund that waits for a second person"
code=$(sed -n 's/.*One-time setup code: \([A-Z0-9-]*\).*/\1/p' "$demo/prepayd-3.log" | tail -1)
[ -n "$code" ] || die "prepayd printed no setup code (see $demo/prepayd-3.log)"
admin_password=$(head -c 15 /dev/urandom | base64)
( umask 077; printf '%s\n' "$admin_password" > "$demo/admin-password" )
api=(--server "127.0.0.1:$api_port" --ca "$demo/pki/ca.crt" --password-file "$demo/admin-password")
"$bin/prepayctl" admin setup "${api[@]}" --code "$code" --login demo-admin --name "演示管理员"
echo "  (its password is in $demo/admin-password)"
"$bin/prepayctl" admin whoami "${api[@]}" --login demo-admin
"$bin/prepayctl" admin recharge "${api[@]}" --login demo-admin --shop A-1F-105 --amount 200 --key demo-counter-0001
echo "  the same key again is the same sale, not a second one:"
"$bin/prepayctl" admin recharge "${api[@]}" --login demo-admin --shop A-1F-105 --amount 200 --key demo-counter-0001

say "a QR top-up for a shop whose supply is cut (B-9F-901, in arrears): prepayd gets the provider's QR, the tenant's phone pays, the payment is credited once and the supply restored"
qr_unit=$(sqlite3 "$db" "SELECT m.unit_id FROM meters m JOIN meter_installations i ON i.meter_id = m.id AND i.removed_at_ms IS NULL
                         JOIN metering_points p ON p.id = i.metering_point_id WHERE p.code = 'B-9F-901'")
qr_gateway=$(sqlite3 "$db" "SELECT b.gateway_id - 1 FROM meters m JOIN buses b ON b.id = m.bus_id
                            JOIN meter_installations i ON i.meter_id = m.id AND i.removed_at_ms IS NULL
                            JOIN metering_points p ON p.id = i.metering_point_id WHERE p.code = 'B-9F-901'")
relay() { "$bin/prepay-sim" ctl --control-port "$control_port" truth "$qr_gateway" "$qr_unit" | sed -n 's/.*"relay_state": *"\([a-z_]*\)".*/\1/p'; }
echo "  the meter's relay (simulator ground truth): $(relay)"
"$bin/prepayctl" admin topup "${api[@]}" --login demo-admin --shop B-9F-901 --amount 100 --channel wechat \
    --key demo-qr-0001 --wait 60 > "$demo/topup.out" 2>&1 &
topup_pid=$!
for _ in $(seq 100); do grep -q '^scan to pay' "$demo/topup.out" && break; sleep 0.1; done
sed 's/^/  prepayctl: /' "$demo/topup.out"
qr=$(sed -n 's/^scan to pay (or open in a browser): //p' "$demo/topup.out")
[ -n "$qr" ] || die "no QR for the top-up (see $demo/topup.out and $demo/prepayd-3.log)"
echo "  the tenant scans the QR and presses Pay on the phone (prepay-sim tap plays the phone):"
"$bin/prepay-sim" tap "$qr" | sed 's/^/    /'
wait "$topup_pid" || die "the QR top-up was not credited (see $demo/topup.out)"
sed -n '/^top-up .*credited/s/^/  prepayctl: /p' "$demo/topup.out"
for _ in $(seq 100); do [ "$(relay)" = closed ] && break; sleep 0.1; done
echo "  the meter's relay now: $(relay)"
qr_attempt=$(sed -n 's/^top-up \([0-9]*\) .*/\1/p' "$demo/topup.out" | head -1)
echo "  the tenant asks for 20.00 back: refunded to the WeChat payer through the provider (prepayctl admin refund)"
"$bin/prepayctl" admin refund "${api[@]}" --login demo-admin --attempt "$qr_attempt" --amount 20 \
    --reason "demo: paid 20.00 too much" --key demo-refund-0001 --wait 30 > "$demo/refund.out"
sed 's/^/    /' "$demo/refund.out"
"$bin/prepayctl" ledger verify --db "$db"

"$bin/prepayctl" admin account close "${api[@]}" --login demo-admin --shop B-1F-101 --settle refund-cash \
    --reason "lease ended"
"$bin/prepayctl" admin approvals "${api[@]}" --login demo-admin
echo "  (a second person decides it: prepayctl admin approve ID --login THEIR-LOGIN; the requester cannot)"
"$bin/prepayctl" admin export meters "${api[@]}" --login demo-admin --out "$demo/meters.csv"

say "receipts: a print queue of the demo's own (a private cupsd: its pages are PDFs in $demo/cups/printed), the QR top-up's receipt printed and followed to the end, the refund slip rendered, a receipt's QR checked with prepayd"
start_receipt_printer "$demo/cups"
qr_receipt=$(sed -n 's/^top-up [0-9]* (receipt \([A-Z0-9]*\)).*credited.*/\1/p' "$demo/topup.out" | head -1)
refund_receipt=$(sed -n 's/^refund [0-9]* (\([A-Z0-9]*\)).*/\1/p' "$demo/refund.out" | head -1)
[ -n "$qr_receipt" ] && [ -n "$refund_receipt" ] || die "no receipt numbers (see $demo/topup.out and $demo/refund.out)"
"$bin/prepayctl" receipt print --receipt "$qr_receipt" --queue Receipts --cups "$cups_socket" "${api[@]}" --login demo-admin \
    | sed 's/^/  prepayctl: /'
[ "${PIPESTATUS[0]}" = 0 ] || die "the receipt was not printed (see $demo/cups/log/error_log)"
printed=$(ls -t "$demo"/cups/printed/job-*.pdf | head -1)
pdftoppm -png -r 150 -singlefile "$printed" "$demo/receipt"
echo "  the paper: $printed (as a picture: $demo/receipt.png)"
"$bin/prepayctl" receipt render --receipt "$refund_receipt" --lang en --paper a5 "${api[@]}" --login demo-admin \
    --out "$demo/refund-slip.pdf" | sed 's/^/  prepayctl: /'
verification=$(zbarimg -q --raw "$demo/receipt.png" 2>/dev/null) || true   # (zbarimg chats about D-Bus on stderr)
[ -n "$verification" ] || die "no QR read from the printed receipt ($demo/receipt.png)"
echo "  the receipt's QR says $verification; is it genuine?"
"$bin/prepayctl" receipt verify "$verification" "${api[@]}" --login demo-admin | sed 's/^/    /'
[ "${PIPESTATUS[0]}" = 0 ] || die "prepayd did not find the printed receipt genuine"

say "the lobby kiosk: staff pair it (prepayctl admin kiosk pair), it enrols with the one-time code (prepay-kiosk --enrol: its own key, a certificate from the building's CA) and follows prepayd over mutual TLS"
pair_out=$("$bin/prepayctl" admin kiosk pair "${api[@]}" --login demo-admin --name "A座大堂" --building A)
sed 's/^/  prepayctl: /' <<<"$pair_out"
pairing=$(sed -n 's/.*pairing code \([A-Z0-9-]*\),.*/\1/p' <<<"$pair_out")
[ -n "$pairing" ] || die "no pairing code for the kiosk"
"$bin/prepay-kiosk" --enrol "127.0.0.1:$api_port" --pairing-code "$pairing" --ca "$demo/pki/ca.crt" \
    --state-dir "$demo/kiosk" | sed 's/^/  prepay-kiosk: /'
TZ=${TZ:-Asia/Shanghai} QT_QPA_PLATFORM=offscreen "$bin/prepay-kiosk" --state-dir "$demo/kiosk" --printer Receipts \
    --cups "$cups_socket" --self-test --screenshot "$demo/kiosk.png" 2>&1 | sed 's/^/  prepay-kiosk: /'
[ "${PIPESTATUS[0]}" = 0 ] || die "the enrolled kiosk did not come online (see above)"
echo "  open $demo/kiosk.png to see the kiosk's attract screen; what prepayd knows of its kiosks:"
"$bin/prepayctl" admin kiosks "${api[@]}" --login demo-admin | sed 's/^/    /'

say "the file while prepayd runs: an online backup, verified before it is kept; the audit chain"
"$bin/prepayctl" backup --db "$db" --out "$demo/backup-demo.db"
"$bin/prepayctl" verify --db "$demo/backup-demo.db"
"$bin/prepayctl" audit verify --db "$db"

if [ $check -eq 0 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && [ "${QT_QPA_PLATFORM:-}" != offscreen ]; then
    say "starting the kiosk in a window (close it or press Ctrl-C to stop the demo)"
    echo "  (the receipts it prints land in $demo/cups/printed)"
    TZ=${TZ:-Asia/Shanghai} "$bin/prepay-kiosk" --state-dir "$demo/kiosk" --printer Receipts --cups "$cups_socket" &
    pids+=($!)
fi

if [ $check -eq 1 ]; then
    say "demo check passed"
    exit 0
fi

cat <<EOF

The demo is running. Try, in another terminal:
  bash -c 'exec 3<>/dev/tcp/127.0.0.1/$health_port; printf "GET /health HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3'
  $bin/prepayctl poll status --db $db
  $bin/prepayctl admin approvals --server 127.0.0.1:$api_port --ca $demo/pki/ca.crt --login demo-admin --password-file $demo/admin-password
  $bin/prepayctl control preview --db $db --all
  $bin/prepayctl ledger verify --db $db
  $bin/prepayctl billing recompute --db $db --point A-1F-101
  $bin/prepayctl meter read --tcp 127.0.0.1:$port_base --unit 5
  $bin/prepayctl meter recharge --tcp 127.0.0.1:$port_base --unit 5 --amount 100 --txn 1
  $bin/prepay-sim ctl --control-port $control_port truth 0 5
  $bin/prepay-sim ctl --control-port $control_port fault add offline --gateway 0 --unit 5
  $bin/prepayctl admin topup --server 127.0.0.1:$api_port --ca $demo/pki/ca.crt --login demo-admin --password-file $demo/admin-password --shop A-1F-102 --amount 50 --channel alipay
    (then open the printed pay link in a browser, or: $bin/prepay-sim tap LINK)
  $bin/prepayctl admin findings --server 127.0.0.1:$api_port --ca $demo/pki/ca.crt --login demo-admin --password-file $demo/admin-password
    (what the daily reconciliation of the providers' bills found: it runs at 10:30 Beijing time for the day before)
Press Ctrl-C to stop.
EOF
wait -n "${pids[@]}"
