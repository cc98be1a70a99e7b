# The demo's receipt printer (sourced by packaging/demo.sh): Debian's cupsd, private to the demo —
# its own configuration, spool, logs and socket under DIR, never the system's CUPS or queues —
# with one raw queue, "Receipts", whose device keeps each job's PDF as DIR/printed/job-<id>.pdf:
# a printer whose paper can be read. The kiosk and prepayctl print to it through libcups as they
# would to the lobby's thermal printer.
#
#   start_receipt_printer DIR    starts it (its pid joins the demo's pids); sets cups_socket
#
# Needs cups-daemon and cups-client (packaging/debian-packages.txt). As root the backend runs as
# lp, as CUPS does; as anyone else cupsd runs as that user.

start_receipt_printer() {
    local dir=$1
    command -v lpadmin > /dev/null && [ -x /usr/sbin/cupsd ] \
        || die "cupsd or lpadmin is missing: install cups-daemon and cups-client (packaging/debian-packages.txt)"
    mkdir -p "$dir"/{etc,spool,tmp,cache,state,log,bin/backend,printed}
    chmod 755 "$dir" "$dir/bin" "$dir/bin/backend"
    local link
    for link in daemon notifier monitor driver filter; do
        [ -e "/usr/lib/cups/$link" ] && ln -sfn "/usr/lib/cups/$link" "$dir/bin/$link"
    done
    cat > "$dir/bin/backend/capture" <<'BACKEND'
#!/bin/sh
# capture:/DIR — each job's document to DIR/job-<id>.pdf (the demo's paper)
if [ $# -eq 0 ]; then echo 'direct capture "Unknown" "prepay demo receipt printer"'; exit 0; fi
dir="${DEVICE_URI#capture:}"
if [ $# -ge 6 ]; then cat "$6" > "$dir/job-$1.tmp"; else cat > "$dir/job-$1.tmp"; fi
mv "$dir/job-$1.tmp" "$dir/job-$1.pdf"
BACKEND
    chmod 755 "$dir/bin/backend/capture"
    local user group
    if [ "$(id -u)" = 0 ]; then
        user=lp group=lp
        chown lp:lp "$dir/printed"
        chmod 755 "$(dirname "$dir")"
    else
        user=$(id -un) group=$(id -gn)
    fi
    cups_socket=$dir/cups.sock
    cat > "$dir/etc/cups-files.conf" <<CONF
ServerRoot $dir/etc
RequestRoot $dir/spool
TempDir $dir/tmp
CacheDir $dir/cache
StateDir $dir/state
ServerBin $dir/bin
DataDir /usr/share/cups
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
Printcap $dir/printcap
User $user
Group $group
SystemGroup root
CONF
    cat > "$dir/etc/cupsd.conf" <<CONF
Listen $cups_socket
LogLevel info
WebInterface No
Browsing No
JobRetryLimit 0
<Location />
  Order allow,deny
  Allow all
</Location>
<Location /admin>
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
CONF
    /usr/sbin/cupsd -f -c "$dir/etc/cupsd.conf" -s "$dir/etc/cups-files.conf" > "$dir/log/cupsd.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do [ -S "$cups_socket" ] && break; sleep 0.05; done
    [ -S "$cups_socket" ] || { cat "$dir/log/cupsd.out" "$dir/log/error_log" >&2 2>/dev/null; die "the demo's cupsd did not start"; }
    lpadmin -h "$cups_socket" -p Receipts -E -v "capture:$dir/printed" -m raw 2>&1 | grep -v 'Raw queues are deprecated' || true
    lpstat -h "$cups_socket" -p Receipts > /dev/null || die "the demo's print queue was not made (see $dir/log/error_log)"
}
