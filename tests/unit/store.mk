# tests/unit/store: stores, bundles, server names (internal library).
check_PROGRAMS += tests/unit/store
TESTS += tests/unit/store
tests_unit_store_SOURCES = tests/unit/store.c tests/unit/store-certs.c tests/unit/store-certs.h
tests_unit_store_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_store_LDADD = $(TESTS_LDADD)

# tests/unit/store-app: an application store written from scratch against
# the installed headers only, linked with the public library.
check_PROGRAMS += tests/unit/store-app
TESTS += tests/unit/store-app
tests_unit_store_app_SOURCES = tests/unit/store-app.c
tests_unit_store_app_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS)
tests_unit_store_app_LDADD = lib/libacme.la $(GLIB_LIBS)

# tests/integration/txsni: Debian's python3-txsni serves TLS from a
# directory our store wrote, and our store reads what python3-txacme wrote.
check_PROGRAMS += tests/integration/txsni
TESTS += tests/integration/txsni
tests_integration_txsni_SOURCES = tests/integration/txsni.c tests/unit/store-certs.c \
	tests/unit/store-certs.h
tests_integration_txsni_CPPFLAGS = $(TESTS_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_integration_txsni_LDADD = $(TESTS_LDADD)
