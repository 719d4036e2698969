#!/bin/bash
# tests/bench/run.sh: libacme against its peers, on one local Pebble.
#
#   make bench && sh tests/bench/run.sh      (from the build directory)
#
# Starts Pebble (PEBBLE_VA_NOSLEEP=1, no nonce rejection) and, in the same
# run, measures libacme (tests/bench/bench-issue, bench-endpoint) and the
# ACME clients Debian ships (uacme, certbot, lego, installed with apt-get
# when missing) doing the same work, then prints one table with ratios.
# Every measurement runs BENCH_REPEAT times (default 3); the table shows
# the median.  See doc/PERFORMANCE.
#
# Environment: BENCH_REPEAT (3), BENCH_PEER_N (20 certificates in a row
# per peer), BENCH_LEGO_N (lego sleeps ~5 s per certificate; default
# BENCH_PEER_N), BENCH_SKIP_PEERS=1, BENCH_SKIP_ENDPOINT=1, BENCH_KEEP=1
# (keep the work directories), BENCH_CACHE (the endpoint's 10,000 test
# certificates, made once; default /tmp/libacme-bench-certs), BENCH_OUT (raw figures; default
# bench-results.txt).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
builddir=${BUILDDIR:-$(pwd)}
BI=$builddir/tests/bench/bench-issue
BE=$builddir/tests/bench/bench-endpoint
REPEAT=${BENCH_REPEAT:-3}
PEER_N=${BENCH_PEER_N:-20}
LEGO_N=${BENCH_LEGO_N:-$PEER_N}
OUT=${BENCH_OUT:-$builddir/bench-results.txt}
HOOK=$top_srcdir/scripts/challtestsrv-hook.sh

for p in "$BI" "$BE"; do
    [ -x "$p" ] || { echo "run.sh: $p missing: run 'make bench' first" >&2; exit 1; }
done
need=
for t in uacme certbot lego wrk gnutls-serv pebble certtool; do
    command -v "$t" >/dev/null 2>&1 || need="$need $t"
done
if [ -n "$need" ]; then
    pk=$(echo "$need" | sed 's/gnutls-serv/gnutls-bin/; s/certtool/gnutls-bin/')
    echo "installing$pk" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pk >/dev/null || exit 1
fi

. "$here/lib.sh"
# Pebble 2.4 can deadlock under many concurrent clients (a lock-order
# inversion between its authorization and database locks; see
# doc/PERFORMANCE): every phase gets a fresh Pebble, and a client that
# waits too long is stopped.
fresh_pebble() {
    [ -n "${PEBBLE_PID:-}" ] && bench_pebble_stop
    bench_pebble_start || exit 1
}
fresh_pebble
trap 'bench_pebble_stop' EXIT
: > "$OUT"
echo "# libacme bench $(date -u +%FT%TZ) on $(nproc) cores; repeat=$REPEAT" >> "$OUT"
log() { echo "$*" >&2; }

# A key=value line -> the value of $2.
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# The median of the numbers on stdin.
median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else printf "%.4g\n", (v[NR/2]+v[NR/2+1])/2}'; }
pebble_cpu() { awk '{print ($14 + $15)}' "/proc/$PEBBLE_PID/stat"; }
tck=$(getconf CLK_TCK)

# record KEY VALUE: one raw figure; fig KEY: the median of its records.
record() { echo "$1 $2" >> "$OUT"; }
fig() { awk -v k="$1" '$1 == k {print $2}' "$OUT" | median; }

# ---- libacme: issuance ---------------------------------------------------
seq_id=0
bi() { # bi TAG ARGS...: run bench-issue, record its figures and Pebble's
    tag=$1; shift
    for try in 1 2 3; do
        seq_id=$((seq_id + 1))
        r0=$(bench_pebble_requests); c0=$(pebble_cpu)
        line=$(timeout 120 "$BI" -d "$DIR_URL" -c "$PEBBLE_CA" -p "$HTTP_PORT" -P "r$seq_id" "$@") &&
            break
        log "  $tag: bench-issue $* failed (Pebble deadlocked?): new Pebble, again"
        echo "$tag FAILED (try $try)" >> "$OUT.lines"
        record pebble_deadlocks 1
        fresh_pebble
        line=
    done
    [ -n "$line" ] || return 1
    r1=$(bench_pebble_requests); c1=$(pebble_cpu)
    n=$(kv "$line" ok)
    echo "$tag $line pebble_requests=$((r1 - r0))" >> "$OUT.lines"
    record "$tag.s_per_cert" "$(awk -v w="$(kv "$line" wall_s)" -v n="$n" 'BEGIN{print w/n}')"
    record "$tag.certs_per_s" "$(kv "$line" certs_per_s)"
    record "$tag.cpu_s_per_cert" "$(awk -v c="$(kv "$line" cpu_ms_per_cert)" 'BEGIN{print c/1000}')"
    record "$tag.req_per_cert" "$(awk -v r=$((r1 - r0)) -v n="$n" 'BEGIN{print r/n}')"
    record "$tag.rss_mb" "$(awk -v k="$(kv "$line" maxrss_kb)" 'BEGIN{print k/1024}')"
    record "$tag.pebble_cpu_ms_per_cert" \
        "$(awk -v a="$c0" -v b="$c1" -v t="$tck" -v n="$n" 'BEGIN{print (b-a)*1000/t/n}')"
    v=$(kv "$line" requests_per_cert_after_first); [ -n "$v" ] && record "$tag.req_after_first" "$v"
    v=$(kv "$line" requests_per_cert); [ -n "$v" ] && record "$tag.client_req_per_cert" "$v"
    log "  $tag: $line"
}

cold() { # cold TAG CMD...: a whole process from nothing, wall time by /usr/bin/time
    tag=$1; shift
    r0=$(bench_pebble_requests)
    /usr/bin/time -f "%e %U %S %M" -o "$W/time.1" "$@" > "$W/cold.out" 2>&1 ||
        { log "$tag failed:"; tail -n 5 "$W/cold.out" >&2; return 1; }
    r1=$(bench_pebble_requests)
    read -r e u s m < "$W/time.1"
    record "$tag.s_per_cert" "$e"
    record "$tag.cpu_s_per_cert" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')"
    record "$tag.req_per_cert" $((r1 - r0))
    record "$tag.rss_mb" "$(awk -v m="$m" 'BEGIN{print m/1024}')"
    log "  $tag: ${e}s"
}

log "libacme issuance (repeat $REPEAT)"
for r in $(seq "$REPEAT"); do
    fresh_pebble
    bi single -m single -n "$PEER_N"
    [ -n "${BENCH_QUICK:-}" ] && { cold acme.cold "$BI" -d "$DIR_URL" -c "$PEBBLE_CA" -p "$HTTP_PORT" -P "cold$r" -m single -n 1; continue; }
    bi service8 -m service -n 100 -w 8
    bi service8fresh -m service -n 100 -w 8 -F
    for w in 1 2 4 16; do bi "scale$w" -m service -n 100 -w "$w"; done
    cold acme.cold "$BI" -d "$DIR_URL" -c "$PEBBLE_CA" -p "$HTTP_PORT" -P "cold$r" -m single -n 1
done
[ -n "${BENCH_QUICK:-}" ] || fresh_pebble
bi names1000 -m service -n 1000 -w 8
fresh_pebble
[ -n "${BENCH_QUICK:-}" ] || bi names1000w16 -m service -n 1000 -w 16

# ---- peers -----------------------------------------------------------------
peer_batch() { # peer_batch TAG N CMD-with-NAME...: N processes in a row
    tag=$1 n=$2; shift 2
    : > "$W/time.n"
    r0=$(bench_pebble_requests); c0=$(pebble_cpu); t0=$(date +%s.%N)
    for i in $(seq "$n"); do
        name="$tag-$RANDOM$i.example.com"
        /usr/bin/time -f "%e %U %S %M" -a -o "$W/time.n" "${@//NAME/$name}" \
            > "$W/peer.out" 2>&1 || { log "$tag failed:"; tail -n 8 "$W/peer.out" >&2; return 1; }
    done
    t1=$(date +%s.%N); r1=$(bench_pebble_requests); c1=$(pebble_cpu)
    record "$tag.s_per_cert" "$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN{print (b-a)/n}')"
    record "$tag.certs_per_s" "$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN{print n/(b-a)}')"
    record "$tag.cpu_s_per_cert" "$(awk -v n="$n" '{c += $2 + $3} END {print c/n}' "$W/time.n")"
    record "$tag.rss_mb" "$(awk '$4 > m {m = $4} END {print m/1024}' "$W/time.n")"
    record "$tag.req_per_cert" "$(awk -v r=$((r1 - r0)) -v n="$n" 'BEGIN{print r/n}')"
    record "$tag.pebble_cpu_ms_per_cert" \
        "$(awk -v a="$c0" -v b="$c1" -v t="$tck" -v n="$n" 'BEGIN{print (b-a)*1000/t/n}')"
    log "  $tag: $(fig "$tag.s_per_cert") s/cert"
}

if [ -z "${BENCH_SKIP_PEERS:-}" ]; then
    fresh_pebble
    # uacme trusts only the system store (libcurl-gnutls, no CA option): in a
    # private mount namespace the system bundle plus Pebble's CA is bound over
    # it, for uacme alone; it still loads the whole system store as usual.
    cat /etc/ssl/certs/ca-certificates.crt "$PEBBLE_CA" > "$W/bundle.pem"
    cat > "$W/uacme.sh" <<EOF
#!/bin/sh
mount --bind "$W/bundle.pem" /etc/ssl/certs/ca-certificates.crt || exit 1
exec uacme "\$@"
EOF
    chmod +x "$W/uacme.sh"
    bench_http01_cts_start || { log "challtestsrv (http-01) did not start"; exit 1; }
    log "uacme"
    for r in $(seq "$REPEAT"); do
        d=$W/uacme$r; mkdir -p "$d"
        cold uacme.cold sh -c "unshare -m '$W/uacme.sh' -a '$DIR_URL' -c '$d' -t EC -y new &&
            unshare -m '$W/uacme.sh' -a '$DIR_URL' -c '$d' -t EC -h '$HOOK' issue cold$r-uacme.example.com"
        peer_batch uacme "$PEER_N" unshare -m "$W/uacme.sh" -a "$DIR_URL" -c "$d" -t EC \
            -h "$HOOK" issue NAME
    done
    bench_http01_cts_stop

    log "certbot"
    fresh_pebble
    for r in $(seq "$REPEAT"); do
        d=$W/certbot$r
        cb="certbot certonly -n -q --agree-tos -m bench@example.com --server $DIR_URL
            --standalone --http-01-port $HTTP_PORT --http-01-address 127.0.0.1
            --config-dir $d/etc --work-dir $d/work --logs-dir $d/log --key-type ecdsa"
        cold certbot.cold env REQUESTS_CA_BUNDLE="$PEBBLE_CA" $cb -d "cold$r-certbot.example.com"
        peer_batch certbot "$PEER_N" env REQUESTS_CA_BUNDLE="$PEBBLE_CA" $cb -d NAME
    done

    log "lego"
    fresh_pebble
    for r in $(seq "$REPEAT"); do
        d=$W/lego$r
        lg="lego --server $DIR_URL --accept-tos --email bench@example.com --path $d
            --key-type ec256 --http --http.port 127.0.0.1:$HTTP_PORT"
        cold lego.cold env LEGO_CA_CERTIFICATES="$PEBBLE_CA" $lg -d "cold$r-lego.example.com" run
        peer_batch lego "$LEGO_N" env LEGO_CA_CERTIFICATES="$PEBBLE_CA" $lg -d NAME run
    done
fi

# ---- endpoint and http-01 listener -----------------------------------------
if [ -z "${BENCH_SKIP_ENDPOINT:-}" ]; then
    log "endpoint"
    for r in $(seq "$REPEAT"); do
        "$BE" -m all -w "${BENCH_CACHE:-/tmp/libacme-bench-certs}" -g "$(command -v gnutls-serv)" -k "$(command -v wrk)" \
            >> "$OUT.lines" 2> "$W/ep.err" || { log "bench-endpoint failed:"; cat "$W/ep.err" >&2; }
        tail -n 1 "$OUT.lines" | tr ' ' '\n' | grep = | sed 's/=/ /; s/^/ep./' >> "$OUT"
    done
fi

# ---- the table ---------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.1fx\n", a/b }'; }
row() { # row LABEL TAG
    printf "%-34s %9s %9s %8s %8s\n" "$1" "$(fig "$2.s_per_cert")" "$(fig "$2.cpu_s_per_cert")" \
        "$(fig "$2.req_per_cert")" "$(fig "$2.rss_mb")"
}
{
echo
echo "libacme benchmark: medians of $REPEAT runs; Pebble $(dpkg-query -W -f '${Version}' pebble 2>/dev/null), $(nproc) cores"
echo
printf "%-34s %9s %9s %8s %8s\n" "issuance" "s/cert" "CPU s" "req" "RSS MB"
row "libacme, $PEER_N in a row" single
row "libacme service, 100 names, 8 w" service8
row "  same, new client per attempt" service8fresh
row "uacme $(dpkg-query -W -f '${Version}' uacme 2>/dev/null), $PEER_N in a row" uacme
row "certbot $(dpkg-query -W -f '${Version}' certbot 2>/dev/null), $PEER_N in a row" certbot
row "lego $(dpkg-query -W -f '${Version}' lego 2>/dev/null), $LEGO_N in a row" lego
row "cold start: libacme" acme.cold
row "cold start: uacme" uacme.cold
row "cold start: certbot" certbot.cold
row "cold start: lego" lego.cold
echo
s8=$(fig service8.certs_per_s)
echo "service, 100 names, 8 workers: $s8 certs/s (target >= 20)"
for p in uacme certbot lego; do
    echo "  vs $p in a row: throughput $(ratio "$s8" "$(fig $p.certs_per_s)"),"\
         "client CPU/cert $(ratio "$(fig $p.cpu_s_per_cert)" "$(fig service8.cpu_s_per_cert)") less"
done
echo "  client CPU $(awk -v c="$(fig service8.cpu_s_per_cert)" 'BEGIN{print c*1000}') ms/cert (target <= 10);"\
     "requests/cert $(fig service8.req_per_cert) (Pebble log), single client after the first $(fig single.req_after_first) (target <= 8);"\
     "peak RSS $(fig service8.rss_mb) MB (target <= 20)"
echo "  Pebble CPU: $(fig service8.pebble_cpu_ms_per_cert) ms/cert;"\
     "Pebble deadlocks met (run repeated on a new Pebble): $(awk '$1 == "pebble_deadlocks"' "$OUT" | wc -l)"
echo "cold start (new process, new account, 1 cert): libacme $(fig acme.cold.s_per_cert) s,"\
     "uacme $(fig uacme.cold.s_per_cert) s ($(ratio "$(fig uacme.cold.s_per_cert)" "$(fig acme.cold.s_per_cert)") faster)"
echo
echo "scaling, 100 names (certs/s, client CPU ms/cert, Pebble CPU ms/cert, RSS MB):"
for w in 1 2 4 8 16; do
    t=scale$w; [ "$w" = 8 ] && t=service8
    printf "  %2d workers: %7s %7s %7s %6s\n" "$w" "$(fig $t.certs_per_s)" \
        "$(awk -v c="$(fig $t.cpu_s_per_cert)" 'BEGIN{print c*1000}')" \
        "$(fig $t.pebble_cpu_ms_per_cert)" "$(fig $t.rss_mb)"
done
for t in names1000 names1000w16; do
    printf "  1000 names %-4s %7s %7s %7s %6s (one run)\n" "$( [ $t = names1000 ] && echo 8w || echo 16w)" \
        "$(fig $t.certs_per_s)" "$(awk -v c="$(fig $t.cpu_s_per_cert)" 'BEGIN{print c*1000}')" \
        "$(fig $t.pebble_cpu_ms_per_cert)" "$(fig $t.rss_mb)"
done
if [ -z "${BENCH_SKIP_ENDPOINT:-}" ]; then
    echo
    echo "endpoint (TLS 1.3, ECDSA P-256, new session per handshake, $(fig ep.clients) client threads):"
    h1=$(fig ep.hs_1); h10k=$(fig ep.hs_10000); g=$(fig ep.hs_gnutls_serv)
    echo "  handshakes/s, 1 cert: $h1; 10,000 certs: $h10k; median ratio of alternating windows $(fig ep.hs_ratio) ($(awk -v r="$(fig ep.hs_ratio)" 'BEGIN{printf "%+.1f%%", (r-1)*100}'), target within 10%)"
    echo "  gnutls-serv, 1 cert, same client: $g (libacme at $(ratio "$h1" "$g") of it)"
    echo "  memory per held certificate: $(fig ep.kb_per_cert) KB; start to serving with 10,000 certs: $(fig ep.start_s) s (target < 1 s)"
    echo "  http-01 listener under wrk: $(fig ep.http01_rps) requests/s;"\
         "slow clients: $(fig ep.slow_held) of $(fig ep.slow_tried) held open, good requests still answered: $(fig ep.slow_ok_rps) requests/s"
fi
} | tee -a "$OUT.table"
