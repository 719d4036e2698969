# tests/integration/acmed.test (owned by acmed): the daemon against a local
# Pebble, with curl, gnutls-cli, openssl s_client and txsni as clients.
# tests/integration/acmed-dns.test: dns-01 through the pdns provider named in
# acmed's configuration file, against a local PowerDNS that Pebble resolves with.
if BUILD_ACMED
TESTS += tests/integration/acmed.test
TESTS += tests/integration/acmed-dns.test
endif
EXTRA_DIST += tests/integration/acmed.test tests/integration/acmed.mk
EXTRA_DIST += tests/integration/acmed-dns.test
