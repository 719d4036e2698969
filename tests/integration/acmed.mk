# tests/integration/acmed.test (owned by acmed): the daemon against a local
# Pebble, with curl, gnutls-cli, openssl s_client and txsni as clients.
if BUILD_ACMED
TESTS += tests/integration/acmed.test
endif
EXTRA_DIST += tests/integration/acmed.test tests/integration/acmed.mk
