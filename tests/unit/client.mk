# tests/unit/client (owned by the client area).
# The fake CA runs on tests/support/mockhttp.c (libmicrohttpd).  Without
# libmicrohttpd the test cannot run: that is a failure, never a skip.
if HAVE_MHD
check_PROGRAMS += tests/unit/client
TESTS += tests/unit/client
tests_unit_client_SOURCES = tests/unit/client.c \
	tests/support/mockhttp.c tests/support/mockhttp.h
tests_unit_client_CPPFLAGS = $(TESTS_CPPFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/tests
tests_unit_client_LDADD = $(TESTS_LDADD) $(MHD_LIBS)
endif
