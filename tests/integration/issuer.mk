# tests/integration/issuer-pebble (owned by the testing area): the issuer
# over the real client, against Pebble (account contact update, issue).
check_PROGRAMS += tests/integration/issuer-pebble
TESTS += tests/integration/issuer-pebble
tests_integration_issuer_pebble_SOURCES = tests/integration/issuer-pebble.c \
	$(PEBBLE_HARNESS_SOURCES)
tests_integration_issuer_pebble_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_issuer_pebble_LDADD = $(TESTS_LDADD)
