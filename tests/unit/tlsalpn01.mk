# tests/unit/tlsalpn01 (owned by the tls-alpn-01 area): registry, responder,
# standalone listener (with a GnuTLS client and gnutls-cli), null responder.
check_PROGRAMS += tests/unit/tlsalpn01
TESTS += tests/unit/tlsalpn01
tests_unit_tlsalpn01_SOURCES = tests/unit/tlsalpn01.c
tests_unit_tlsalpn01_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_tlsalpn01_LDADD = $(TESTS_LDADD)
