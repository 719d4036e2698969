# tests/integration/http01-pebble: the http-01 responders (standalone,
# embedded, webroot behind python3 -m http.server) against Pebble.
# Owned by the http-01 area; needs PEBBLE_HARNESS_SOURCES from harness.mk.
check_PROGRAMS += tests/integration/http01-pebble
TESTS += tests/integration/http01-pebble
tests_integration_http01_pebble_SOURCES = tests/integration/http01-pebble.c \
	$(PEBBLE_HARNESS_SOURCES)
tests_integration_http01_pebble_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_http01_pebble_LDADD = $(TESTS_LDADD)
