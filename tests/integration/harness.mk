# Pebble harness and integration tests.
#
# Each program starts its own Pebble(s) on free loopback ports, so the
# programs may run in parallel.  A missing Pebble exits 99 (hard error).
PEBBLE_HARNESS_SOURCES = tests/integration/pebble.c tests/integration/pebble.h
EXTRA_DIST += tests/integration/harness.mk

# The harness alone (no client needed).
check_PROGRAMS += tests/integration/pebble-harness
TESTS += tests/integration/pebble-harness
tests_integration_pebble_harness_SOURCES = tests/integration/pebble-harness.c \
	$(PEBBLE_HARNESS_SOURCES)
tests_integration_pebble_harness_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_pebble_harness_LDADD = $(TESTS_LDADD)

# The client against Pebble (accounts, orders, challenges, chains, revocation).
check_PROGRAMS += tests/integration/client-pebble
TESTS += tests/integration/client-pebble
tests_integration_client_pebble_SOURCES = tests/integration/client-pebble.c \
	tests/integration/pebble-responder.c $(PEBBLE_HARNESS_SOURCES)
tests_integration_client_pebble_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_client_pebble_LDADD = $(TESTS_LDADD)
