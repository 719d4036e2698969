# tests/unit/transport (owned by the transport area).
# The test talks to tests/support/mockhttp.c, an in-process server on
# libmicrohttpd.  Without libmicrohttpd the test cannot run, and that is a
# failure (a hard error in TAP terms), never a skip.
EXTRA_DIST += tests/unit/transport-needs-mhd.test
if HAVE_MHD
check_PROGRAMS += tests/unit/transport
TESTS += tests/unit/transport
tests_unit_transport_SOURCES = tests/unit/transport.c \
	tests/support/mockhttp.c tests/support/mockhttp.h
tests_unit_transport_CPPFLAGS = $(TESTS_CPPFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/tests
tests_unit_transport_LDADD = $(TESTS_LDADD) $(MHD_LIBS)
else
TESTS += tests/unit/transport-needs-mhd.test
endif
