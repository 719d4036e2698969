# tests/integration/endpoint-clients (owned by the endpoint area): the
# endpoint against gnutls-cli and openssl s_client.
check_PROGRAMS += tests/integration/endpoint-clients
TESTS += tests/integration/endpoint-clients
tests_integration_endpoint_clients_SOURCES = tests/integration/endpoint-clients.c \
	tests/unit/store-certs.c tests/unit/store-certs.h
tests_integration_endpoint_clients_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_integration_endpoint_clients_LDADD = $(TESTS_LDADD)
