#!/bin/sh
# Installs what building and testing libacme needs on Debian (run as root).
set -e
pkgs="build-essential autoconf automake libtool pkg-config gettext autopoint
      libgnutls28-dev gnutls-bin libcurl4-gnutls-dev libjson-c-dev libglib2.0-dev
      libmicrohttpd-dev pebble mandoc valgrind python3-txsni python3-txacme curl ca-certificates
      pdns-server pdns-backend-sqlite3 sqlite3 openssl libinih-dev clang libclang-rt-dev"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
