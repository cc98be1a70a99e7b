#!/usr/bin/env bash
# The whole prepay system on this machine with the simulated building (run by ./dev demo,
# after the build). Today that is: a fresh database holding the demo building (三明商会大厦,
# 300 meters on 3 gateways), the simulated gateways and meters (prepay-sim, RS-485 timing at
# 9600 baud, RTU ptys too), a technician's read of a few meters with prepayctl, prepayd polling
# every meter into the database (its first full cycle shown with prepayctl poll status), and the
# kiosk's attract screen (in a window when there is a display, else
# rendered to a PNG). Each issue adds its part here.
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
db=$demo/prepay.db
"$bin/prepayctl" db migrate --db "$db"
"$bin/prepayctl" db seed demo --db "$db"
if [ "$port_base" != 1502 ]; then
    # The seed puts the gateways on 1502..1504; follow the simulator elsewhere.
    sqlite3 "$db" "UPDATE gateways SET port = $port_base + id - 1"
fi
"$bin/prepayctl" db status --db "$db"

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

say "starting prepayd (log: $demo/prepayd.log)"
"$bin/prepayd" --data "$demo" > "$demo/prepayd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    grep -q ' ready: ' "$demo/prepayd.log" && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$demo/prepayd.log" >&2; die "prepayd exited"; }
    sleep 0.1
done
grep -q ' ready: ' "$demo/prepayd.log" || { cat "$demo/prepayd.log" >&2; die "prepayd did not come up"; }
sed -n 's/^/  prepayd: /p' "$demo/prepayd.log"

say "prepayd polls the building: one worker per bus, all 8 buses at once, RS-485 timing"
for _ in $(seq 600); do
    done_buses=$(sqlite3 "$db" "SELECT count(*) FROM bus_health WHERE last_cycle_duration_ms > 0" 2>/dev/null || echo 0)
    [ "$done_buses" -ge 8 ] && break
    sleep 0.1
done
[ "${done_buses:-0}" -ge 8 ] || die "the first poll cycle did not finish within a minute (see $demo/prepayd.log)"
"$bin/prepayctl" poll status --db "$db"

if [ $check -eq 0 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && [ "${QT_QPA_PLATFORM:-}" != offscreen ]; then
    say "starting the kiosk in a window (close it or press Ctrl-C to stop the demo)"
    "$bin/prepay-kiosk" &
    pids+=($!)
else
    say "no display: rendering the kiosk offscreen"
    QT_QPA_PLATFORM=offscreen "$bin/prepay-kiosk" --self-test --screenshot "$demo/kiosk.png"
    echo "  open $demo/kiosk.png to see the kiosk's attract screen"
fi

if [ $check -eq 1 ]; then
    say "demo check passed"
    exit 0
fi

cat <<EOF

The demo is running. Try, in another terminal:
  $bin/prepayctl poll status --db $db
  $bin/prepayctl meter read --tcp 127.0.0.1:$port_base --unit 5
  $bin/prepayctl meter recharge --tcp 127.0.0.1:$port_base --unit 5 --amount 100 --txn 1
  $bin/prepay-sim ctl --control-port $control_port truth 0 5
  $bin/prepay-sim ctl --control-port $control_port fault add offline --gateway 0 --unit 5
Press Ctrl-C to stop.
EOF
wait -n "${pids[@]}"
