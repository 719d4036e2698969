#!/bin/bash
# The main job, for now: install dependencies, build libacme, start a local
# Pebble CA, issue a real certificate with the example program
# bin/acme-issue, and print where it went.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
sh scripts/deps.sh
if [ ! -x build/bin/acme-issue ]; then
    ./autogen.sh >/dev/null 2>&1
    mkdir -p build && (cd build && ../configure >/dev/null && make -j"$(nproc)" >/dev/null)
fi
. scripts/pebble-env.sh
pebble_env_start
trap pebble_env_stop EXIT
out=${ACME_DEMO_OUT:-$top/demo-certs}
mkdir -p "$out"
name=${1:-demo.libacme.test}
pem=$(build/bin/acme-issue -d "$PEBBLE_DIR_URL" -c "$PEBBLE_CA" -k "$top/scripts/challtestsrv-hook.sh" \
      -o "$out" "$name")
echo "certificate for $name issued by the local Pebble CA:"
echo "  $pem"
certtool -i --infile "$pem" 2>/dev/null | grep -E 'Subject:|Issuer:|Not After|DNSname' | sed 's/^\s*/  /'
