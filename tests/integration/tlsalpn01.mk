# tests/integration/tlsalpn01-pebble (owned by the tls-alpn-01 area): Pebble
# validates against the standalone listener; the null responder completes
# an order on a Pebble that does not validate.
check_PROGRAMS += tests/integration/tlsalpn01-pebble
TESTS += tests/integration/tlsalpn01-pebble
tests_integration_tlsalpn01_pebble_SOURCES = tests/integration/tlsalpn01-pebble.c \
	$(PEBBLE_HARNESS_SOURCES)
tests_integration_tlsalpn01_pebble_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_tlsalpn01_pebble_LDADD = $(TESTS_LDADD)
