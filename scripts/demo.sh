#!/bin/bash
# The main job: install dependencies, build libacme and acmed, start a local
# Pebble CA, run acmed serving static files over TLS with an empty
# <name>.pem, wait until it serves, fetch a page with curl verified against
# Pebble's root, and print where the certificate went.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
sh scripts/deps.sh
if [ ! -x build/bin/acmed/acmed ]; then
    ./autogen.sh >/dev/null 2>&1
    mkdir -p build && (cd build && ../configure >/dev/null && make -j"$(nproc)" >/dev/null)
fi
acmed=build/bin/acmed/acmed
. scripts/pebble-env.sh
# acmed answers tls-alpn-01 itself, on Pebble's validation port.
PEBBLE_OWN_RESPONDERS=1 pebble_env_start
work=$(mktemp -d)
apid=
stop() {
    [ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
    pebble_env_stop
    rm -rf "$work"
}
trap stop EXIT
name=${1:-demo.libacme.test}
out=${ACME_DEMO_OUT:-$top/demo-certs}
mkdir -p "$out" "$work/www" "$work/state"
echo "<h1>Hello from acmed</h1>" > "$work/www/index.html"
: > "$out/$name.pem"     # empty: acmed issues it at startup
port=$PEBBLE_TLS_PORT
esc_url=$(printf '%s' "$PEBBLE_DIR_URL" | sed 's/:/\\:/g')
"$acmed" -c /dev/null --port "acme:$esc_url:$out:tcp:$port:interface=127.0.0.1" \
    --path "$work/www" --ca-file "$PEBBLE_CA" --state-dir "$work/state" 2> "$work/acmed.log" &
apid=$!
curl -fsS --cacert "$PEBBLE_CA" "$PEBBLE_MGMT_URL/roots/0" > "$work/root.pem"
# acmed answers its status socket once the startup issuance is done.
for _ in $(seq 150); do
    "$acmed" -c /dev/null --state-dir "$work/state" status >/dev/null 2>&1 && break
    kill -0 "$apid" 2>/dev/null || { cat "$work/acmed.log" >&2; exit 1; }
    sleep 0.1
done
echo "acmed serves https://$name:$port/ with a certificate from the local Pebble CA:"
curl -fsS --resolve "$name:$port:127.0.0.1" --cacert "$work/root.pem" "https://$name:$port/"
echo
"$acmed" -c /dev/null --state-dir "$work/state" status
echo "certificate, key and chain (txsni layout):"
echo "  $out/$name.pem"
certtool -i --infile "$out/$name.pem" 2>/dev/null | grep -E 'Subject:|Issuer:|Not After|DNSname' |
    sed 's/^\s*/  /'
