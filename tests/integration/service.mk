# tests/integration/service-pebble (owned by the service area): the issuing
# service fills a 50-name store from Pebble with 8 workers, then renews it.
check_PROGRAMS += tests/integration/service-pebble
TESTS += tests/integration/service-pebble
tests_integration_service_pebble_SOURCES = tests/integration/service-pebble.c \
	tests/integration/pebble-responder.c $(PEBBLE_HARNESS_SOURCES)
tests_integration_service_pebble_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_service_pebble_LDADD = $(TESTS_LDADD)
