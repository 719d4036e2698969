# Sourced by scripts: starts Pebble and pebble-challtestsrv on free loopback
# ports with a throwaway TLS certificate, and sets:
#   PEBBLE_DIR_URL  the ACME directory URL
#   PEBBLE_CA       the CA file that Pebble's HTTPS listener chains to
#   CHALLTESTSRV    challtestsrv's management URL
#   PEBBLE_WORK     the temporary directory (logs, certificates)
#   PEBBLE_MGMT_URL Pebble's management API (/roots/0: the root of issued certificates)
#   PEBBLE_HTTP_PORT, PEBBLE_TLS_PORT  where Pebble validates http-01 / tls-alpn-01
# Set PEBBLE_OWN_RESPONDERS=1 before starting to keep challtestsrv off those
# two ports, so that your own responder (acmed) can listen there.
# Set PEBBLE_DNS_SERVER=host:port to have Pebble resolve (dns-01 TXT lookups
# included) through that server instead of challtestsrv's DNS.
# pebble_env_stop stops both and removes the directory.

free_port() {
    # A port nobody listens on (bash's /dev/tcp fails to connect there).
    while :; do
        p=$(( (RANDOM % 20000) + 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
}

pebble_env_start() {
    PEBBLE_WORK=$(mktemp -d)
    w=$PEBBLE_WORK
    cat > "$w/ca.tmpl" <<TMPL
cn = "libacme demo CA"
ca
cert_signing_key
expiration_days = 2
TMPL
    cat > "$w/srv.tmpl" <<TMPL
cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
expiration_days = 2
TMPL
    certtool --generate-privkey --key-type ecdsa --outfile "$w/ca.key" 2>/dev/null
    certtool --generate-self-signed --load-privkey "$w/ca.key" --template "$w/ca.tmpl" \
        --outfile "$w/ca.pem" 2>/dev/null
    certtool --generate-privkey --key-type ecdsa --outfile "$w/srv.key" 2>/dev/null
    certtool --generate-certificate --load-privkey "$w/srv.key" --load-ca-certificate "$w/ca.pem" \
        --load-ca-privkey "$w/ca.key" --template "$w/srv.tmpl" --outfile "$w/srv.pem" 2>/dev/null
    acme_port=$(free_port); mgmt_port=$(free_port); http_port=$(free_port)
    tls_port=$(free_port); dns_port=$(free_port); cts_port=$(free_port)
    cat > "$w/pebble.json" <<JSON
{ "pebble": { "listenAddress": "127.0.0.1:$acme_port",
  "managementListenAddress": "127.0.0.1:$mgmt_port",
  "certificate": "$w/srv.pem", "privateKey": "$w/srv.key",
  "httpPort": $http_port, "tlsPort": $tls_port, "ocspResponderURL": "",
  "externalAccountBindingRequired": false } }
JSON
    cts_http="127.0.0.1:$http_port"; cts_tls="127.0.0.1:$tls_port"
    if [ "${PEBBLE_OWN_RESPONDERS:-0}" = 1 ]; then cts_http=""; cts_tls=""; fi
    pebble-challtestsrv -dns01 "127.0.0.1:$dns_port" -http01 "$cts_http" \
        -https01 "" -tlsalpn01 "$cts_tls" \
        -management "127.0.0.1:$cts_port" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        > "$w/challtestsrv.log" 2>&1 &
    CTS_PID=$!
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=${PEBBLE_WFE_NONCEREJECT:-5} \
        pebble -config "$w/pebble.json" \
        -dnsserver "${PEBBLE_DNS_SERVER:-127.0.0.1:$dns_port}" -strict=false \
        > "$w/pebble.log" 2>&1 &
    PEBBLE_PID=$!
    PEBBLE_DIR_URL="https://127.0.0.1:$acme_port/dir"
    PEBBLE_CA="$w/ca.pem"
    CHALLTESTSRV="http://127.0.0.1:$cts_port"
    PEBBLE_MGMT_URL="https://127.0.0.1:$mgmt_port"
    PEBBLE_HTTP_PORT=$http_port
    PEBBLE_TLS_PORT=$tls_port
    i=0
    until curl -fsS --cacert "$PEBBLE_CA" "$PEBBLE_DIR_URL" >/dev/null 2>&1 &&
          curl -sS -o /dev/null "$CHALLTESTSRV/" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 100 ]; then
            echo "pebble did not start:" >&2; tail -n 20 "$w/pebble.log" "$w/challtestsrv.log" >&2
            return 1
        fi
        sleep 0.2
    done
    export PEBBLE_DIR_URL PEBBLE_CA CHALLTESTSRV PEBBLE_WORK PEBBLE_MGMT_URL PEBBLE_HTTP_PORT \
        PEBBLE_TLS_PORT
}

pebble_env_stop() {
    kill "$PEBBLE_PID" "$CTS_PID" 2>/dev/null || true
    wait "$PEBBLE_PID" "$CTS_PID" 2>/dev/null || true
    rm -rf "$PEBBLE_WORK"
}
