# tests/unit/endpoint (owned by the endpoint area): endpoint strings, SNI
# selection, tls-alpn-01 on the same port, cache reloads, bad clients and
# descriptor counts, on-demand issuance, applications' own accept loops.
check_PROGRAMS += tests/unit/endpoint
TESTS += tests/unit/endpoint
tests_unit_endpoint_SOURCES = tests/unit/endpoint.c tests/unit/store-certs.c \
	tests/unit/store-certs.h
tests_unit_endpoint_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_endpoint_LDADD = $(TESTS_LDADD)

# tests/unit/endpoint-service: the endpoint wired to the issuing service.
check_PROGRAMS += tests/unit/endpoint-service
TESTS += tests/unit/endpoint-service
tests_unit_endpoint_service_SOURCES = tests/unit/endpoint-service.c
tests_unit_endpoint_service_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_endpoint_service_LDADD = $(TESTS_LDADD)
