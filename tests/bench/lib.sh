# tests/bench/lib.sh: sourced by run.sh.  Starts one Pebble for the whole
# run (PEBBLE_VA_NOSLEEP=1, no nonce rejection so request counts are exact)
# and a DNS-only pebble-challtestsrv that answers every A query with
# 127.0.0.1.  Pebble's httpPort is left free: each client under test
# answers http-01 there in its own way, one after the other.

BENCH_PORTS_TAKEN=" "
bench_free_port() {
    # A port nobody listens on (bash's /dev/tcp fails to connect there) and
    # not handed out before in this run.
    while :; do
        p=$(( (RANDOM % 20000) + 20000 ))
        case "$BENCH_PORTS_TAKEN" in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            BENCH_PORTS_TAKEN="$BENCH_PORTS_TAKEN$p "
            echo "$p"; return
        fi
    done
}

bench_wait_http() {
    # $1 URL, $2 extra curl options; waits up to ~20 s.
    i=0
    until curl -sS -o /dev/null $2 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && return 1
        sleep 0.2
    done
}

# Start Pebble; a port taken meanwhile by someone else gets another try.
bench_pebble_start() {
    for try in 1 2 3; do
        bench_pebble_start1 && return 0
        kill "$PEBBLE_PID" "$CTS_PID" 2>/dev/null; wait "$PEBBLE_PID" "$CTS_PID" 2>/dev/null
        rm -rf "$W"
    done
    return 1
}

bench_pebble_start1() {
    W=$(mktemp -d /tmp/libacme-bench.XXXXXX)
    cat > "$W/ca.tmpl" <<TMPL
cn = "libacme bench CA"
ca
cert_signing_key
expiration_days = 2
TMPL
    cat > "$W/srv.tmpl" <<TMPL
cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
expiration_days = 2
TMPL
    certtool --generate-privkey --key-type ecdsa --outfile "$W/ca.key" 2>/dev/null &&
    certtool --generate-self-signed --load-privkey "$W/ca.key" --template "$W/ca.tmpl" \
        --outfile "$W/ca.pem" 2>/dev/null &&
    certtool --generate-privkey --key-type ecdsa --outfile "$W/srv.key" 2>/dev/null &&
    certtool --generate-certificate --load-privkey "$W/srv.key" --load-ca-certificate \
        "$W/ca.pem" --load-ca-privkey "$W/ca.key" --template "$W/srv.tmpl" \
        --outfile "$W/srv.pem" 2>/dev/null || { echo "certtool failed" >&2; return 1; }
    set -- $(for i in 1 2 3 4 5 6; do bench_free_port; done | tr '\n' ' ')
    ACME_PORT=$1 MGMT_PORT=$2 HTTP_PORT=$3 TLS_PORT=$4 DNS_PORT=$5 CTS_PORT=$6
    cat > "$W/pebble.json" <<JSON
{ "pebble": { "listenAddress": "127.0.0.1:$ACME_PORT",
  "managementListenAddress": "127.0.0.1:$MGMT_PORT",
  "certificate": "$W/srv.pem", "privateKey": "$W/srv.key",
  "httpPort": $HTTP_PORT, "tlsPort": $TLS_PORT, "ocspResponderURL": "",
  "externalAccountBindingRequired": false } }
JSON
    pebble-challtestsrv -dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
        -management "127.0.0.1:$CTS_PORT" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        > "$W/challtestsrv.log" 2>&1 &
    CTS_PID=$!
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=${BENCH_NONCEREJECT:-0} PEBBLE_AUTHZREUSE=0 \
        pebble -config "$W/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" -strict=false \
        > "$W/pebble.log" 2>&1 &
    PEBBLE_PID=$!
    DIR_URL="https://127.0.0.1:$ACME_PORT/dir"
    PEBBLE_CA="$W/ca.pem"
    bench_wait_http "$DIR_URL" "-f --cacert $PEBBLE_CA" &&
        bench_wait_http "http://127.0.0.1:$CTS_PORT/" "" || {
        echo "pebble did not start:" >&2; tail -n 20 "$W/pebble.log" "$W/challtestsrv.log" >&2
        return 1; }
}

# A second challtestsrv that serves http-01 on Pebble's httpPort (for the
# hook-based peers); its management URL in CHALLTESTSRV.
bench_http01_cts_start() {
    CTS2_PORT=$(bench_free_port)
    pebble-challtestsrv -dns01 "" -http01 "127.0.0.1:$HTTP_PORT" -https01 "" -tlsalpn01 "" \
        -management "127.0.0.1:$CTS2_PORT" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        > "$W/challtestsrv-http01.log" 2>&1 &
    CTS2_PID=$!
    CHALLTESTSRV="http://127.0.0.1:$CTS2_PORT"
    export CHALLTESTSRV
    bench_wait_http "$CHALLTESTSRV/" ""
}

bench_http01_cts_stop() {
    kill "$CTS2_PID" 2>/dev/null; wait "$CTS2_PID" 2>/dev/null; CTS2_PID=
}

bench_pebble_stop() {
    [ -n "${CTS2_PID:-}" ] && bench_http01_cts_stop
    kill "$PEBBLE_PID" "$CTS_PID" 2>/dev/null
    wait "$PEBBLE_PID" "$CTS_PID" 2>/dev/null
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$W"
}

# Requests Pebble's log shows so far (ACME requests only: GET and POST
# handler lines of the WFE), for counting the peers' requests.
bench_pebble_requests() {
    grep -cE '^Pebble [0-9/: ]+(GET|POST|HEAD) ' "$W/pebble.log" || true
}
