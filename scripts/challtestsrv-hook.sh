#!/bin/sh
# A uacme-style challenge hook that answers through pebble-challtestsrv's
# management API ($CHALLTESTSRV):  hook begin|done TYPE NAME TOKEN AUTH
set -eu
method=$1 type=$2 name=$3 token=$4 auth=$5
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV/$1"; }
case "$method:$type" in
    begin:http-01) post add-http01 "{\"token\":\"$token\",\"content\":\"$auth\"}" ;;
    done:http-01) post del-http01 "{\"token\":\"$token\"}" ;;
    begin:dns-01) post set-txt "{\"host\":\"_acme-challenge.$name.\",\"value\":\"$auth\"}" ;;
    done:dns-01) post clear-txt "{\"host\":\"_acme-challenge.$name.\"}" ;;
    begin:tls-alpn-01) post add-tlsalpn01 "{\"host\":\"$name\",\"content\":\"$auth\"}" ;;
    done:tls-alpn-01) post del-tlsalpn01 "{\"host\":\"$name\"}" ;;
    *) echo "challtestsrv-hook: unknown $method $type" >&2; exit 1 ;;
esac
