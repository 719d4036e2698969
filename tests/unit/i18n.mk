# tests/unit/i18n: the French catalogue (po/fr.po, compiled with msgfmt at
# test time into a temporary tree) must translate the library's messages.
# msgfmt missing is a hard error (exit 99), never a skip.
check_PROGRAMS += tests/unit/i18n
TESTS += tests/unit/i18n
tests_unit_i18n_SOURCES = tests/unit/i18n.c
tests_unit_i18n_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_i18n_LDADD = $(TESTS_LDADD) $(LTLIBINTL)
