# tests/fuzz: libFuzzer targets for every parser of outside input.
#
# Each tests/fuzz/fuzz-<name>.c defines LLVMFuzzerTestOneInput() and is
# built twice:
#   tests/fuzz/replay-<name>  with replay.c, in every `make check`: it runs
#                             the seed corpus and the regression inputs
#                             (any compiler; no clang needed);
#   tests/fuzz/fuzz-<name>    with libFuzzer, only in a clang build
#                             configured with --enable-fuzz (`make fuzz`).
# `make fuzz-run` runs each libFuzzer target for FUZZ_SECONDS (30) seconds
# through tests/fuzz/run.sh.  See tests/fuzz/README.

FUZZ_CPPFLAGS = $(AM_CPPFLAGS) $(GNUTLS_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/fuzz
FUZZ_LDADD = lib/libacme-internal.la $(GNUTLS_LIBS) $(CURL_LIBS) $(JSONC_LIBS) $(PTHREAD_LIBS)

# One line per target; keep tests/fuzz/run.sh's list and README in step.
FUZZ_TARGETS = \
	json \
	directory \
	account \
	order \
	authz \
	challenge \
	problem \
	link \
	retry-after \
	rfc3339 \
	key-pem \
	chain-pem \
	bundle-pem \
	name \
	http01-path \
	tlsalpn01-name \
	endpoint-string \
	clienthello \
	dns-answer \
	dns-txt \
	dns-zone \
	dns-config \
	dns-xml

FUZZ_REPLAY_PROGS = \
	tests/fuzz/replay-json \
	tests/fuzz/replay-directory \
	tests/fuzz/replay-account \
	tests/fuzz/replay-order \
	tests/fuzz/replay-authz \
	tests/fuzz/replay-challenge \
	tests/fuzz/replay-problem \
	tests/fuzz/replay-link \
	tests/fuzz/replay-retry-after \
	tests/fuzz/replay-rfc3339 \
	tests/fuzz/replay-key-pem \
	tests/fuzz/replay-chain-pem \
	tests/fuzz/replay-bundle-pem \
	tests/fuzz/replay-name \
	tests/fuzz/replay-http01-path \
	tests/fuzz/replay-tlsalpn01-name \
	tests/fuzz/replay-endpoint-string \
	tests/fuzz/replay-clienthello \
	tests/fuzz/replay-dns-answer \
	tests/fuzz/replay-dns-txt \
	tests/fuzz/replay-dns-zone \
	tests/fuzz/replay-dns-config \
	tests/fuzz/replay-dns-xml

FUZZ_PROGS = \
	tests/fuzz/fuzz-json \
	tests/fuzz/fuzz-directory \
	tests/fuzz/fuzz-account \
	tests/fuzz/fuzz-order \
	tests/fuzz/fuzz-authz \
	tests/fuzz/fuzz-challenge \
	tests/fuzz/fuzz-problem \
	tests/fuzz/fuzz-link \
	tests/fuzz/fuzz-retry-after \
	tests/fuzz/fuzz-rfc3339 \
	tests/fuzz/fuzz-key-pem \
	tests/fuzz/fuzz-chain-pem \
	tests/fuzz/fuzz-bundle-pem \
	tests/fuzz/fuzz-name \
	tests/fuzz/fuzz-http01-path \
	tests/fuzz/fuzz-tlsalpn01-name \
	tests/fuzz/fuzz-endpoint-string \
	tests/fuzz/fuzz-clienthello \
	tests/fuzz/fuzz-dns-answer \
	tests/fuzz/fuzz-dns-txt \
	tests/fuzz/fuzz-dns-zone \
	tests/fuzz/fuzz-dns-config \
	tests/fuzz/fuzz-dns-xml

if BUILD_ACMED
# The acmed configuration file: only when acmed is built (it needs libinih).
FUZZ_TARGETS += acmed-conf
FUZZ_REPLAY_PROGS += tests/fuzz/replay-acmed-conf
FUZZ_PROGS += tests/fuzz/fuzz-acmed-conf
endif
check_PROGRAMS += $(FUZZ_REPLAY_PROGS)
TESTS += $(FUZZ_REPLAY_PROGS)
if ENABLE_FUZZ
noinst_PROGRAMS += $(FUZZ_PROGS)
endif

tests_fuzz_replay_json_SOURCES = tests/fuzz/fuzz-json.c tests/fuzz/replay.c
tests_fuzz_replay_json_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"json"'
tests_fuzz_replay_json_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_json_SOURCES = tests/fuzz/fuzz-json.c
tests_fuzz_fuzz_json_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_json_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_directory_SOURCES = tests/fuzz/fuzz-directory.c tests/fuzz/replay.c
tests_fuzz_replay_directory_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"directory"'
tests_fuzz_replay_directory_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_directory_SOURCES = tests/fuzz/fuzz-directory.c
tests_fuzz_fuzz_directory_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_directory_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_directory_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_account_SOURCES = tests/fuzz/fuzz-account.c tests/fuzz/replay.c
tests_fuzz_replay_account_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"account"'
tests_fuzz_replay_account_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_account_SOURCES = tests/fuzz/fuzz-account.c
tests_fuzz_fuzz_account_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_account_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_account_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_order_SOURCES = tests/fuzz/fuzz-order.c tests/fuzz/replay.c
tests_fuzz_replay_order_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"order"'
tests_fuzz_replay_order_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_order_SOURCES = tests/fuzz/fuzz-order.c
tests_fuzz_fuzz_order_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_order_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_order_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_authz_SOURCES = tests/fuzz/fuzz-authz.c tests/fuzz/replay.c
tests_fuzz_replay_authz_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"authz"'
tests_fuzz_replay_authz_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_authz_SOURCES = tests/fuzz/fuzz-authz.c
tests_fuzz_fuzz_authz_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_authz_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_authz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_challenge_SOURCES = tests/fuzz/fuzz-challenge.c tests/fuzz/replay.c
tests_fuzz_replay_challenge_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"challenge"'
tests_fuzz_replay_challenge_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_challenge_SOURCES = tests/fuzz/fuzz-challenge.c
tests_fuzz_fuzz_challenge_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_challenge_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_challenge_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_problem_SOURCES = tests/fuzz/fuzz-problem.c tests/fuzz/replay.c
tests_fuzz_replay_problem_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"problem"'
tests_fuzz_replay_problem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_problem_SOURCES = tests/fuzz/fuzz-problem.c
tests_fuzz_fuzz_problem_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_problem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_problem_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_link_SOURCES = tests/fuzz/fuzz-link.c tests/fuzz/replay.c
tests_fuzz_replay_link_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"link"'
tests_fuzz_replay_link_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_link_SOURCES = tests/fuzz/fuzz-link.c
tests_fuzz_fuzz_link_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_link_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_link_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_retry_after_SOURCES = tests/fuzz/fuzz-retry-after.c tests/fuzz/replay.c
tests_fuzz_replay_retry_after_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"retry-after"'
tests_fuzz_replay_retry_after_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_retry_after_SOURCES = tests/fuzz/fuzz-retry-after.c
tests_fuzz_fuzz_retry_after_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_retry_after_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_retry_after_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_rfc3339_SOURCES = tests/fuzz/fuzz-rfc3339.c tests/fuzz/replay.c
tests_fuzz_replay_rfc3339_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"rfc3339"'
tests_fuzz_replay_rfc3339_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_rfc3339_SOURCES = tests/fuzz/fuzz-rfc3339.c
tests_fuzz_fuzz_rfc3339_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_rfc3339_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_rfc3339_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_key_pem_SOURCES = tests/fuzz/fuzz-key-pem.c tests/fuzz/replay.c
tests_fuzz_replay_key_pem_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"key-pem"'
tests_fuzz_replay_key_pem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_key_pem_SOURCES = tests/fuzz/fuzz-key-pem.c
tests_fuzz_fuzz_key_pem_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_key_pem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_key_pem_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_chain_pem_SOURCES = tests/fuzz/fuzz-chain-pem.c tests/fuzz/replay.c
tests_fuzz_replay_chain_pem_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"chain-pem"'
tests_fuzz_replay_chain_pem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_chain_pem_SOURCES = tests/fuzz/fuzz-chain-pem.c
tests_fuzz_fuzz_chain_pem_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_chain_pem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_chain_pem_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_bundle_pem_SOURCES = tests/fuzz/fuzz-bundle-pem.c tests/fuzz/replay.c
tests_fuzz_replay_bundle_pem_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"bundle-pem"'
tests_fuzz_replay_bundle_pem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_bundle_pem_SOURCES = tests/fuzz/fuzz-bundle-pem.c
tests_fuzz_fuzz_bundle_pem_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_bundle_pem_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_bundle_pem_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_name_SOURCES = tests/fuzz/fuzz-name.c tests/fuzz/replay.c
tests_fuzz_replay_name_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"name"'
tests_fuzz_replay_name_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_name_SOURCES = tests/fuzz/fuzz-name.c
tests_fuzz_fuzz_name_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_name_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_name_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_http01_path_SOURCES = tests/fuzz/fuzz-http01-path.c tests/fuzz/replay.c
tests_fuzz_replay_http01_path_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"http01-path"'
tests_fuzz_replay_http01_path_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_http01_path_SOURCES = tests/fuzz/fuzz-http01-path.c
tests_fuzz_fuzz_http01_path_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_http01_path_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_http01_path_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_tlsalpn01_name_SOURCES = tests/fuzz/fuzz-tlsalpn01-name.c tests/fuzz/replay.c
tests_fuzz_replay_tlsalpn01_name_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"tlsalpn01-name"'
tests_fuzz_replay_tlsalpn01_name_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_tlsalpn01_name_SOURCES = tests/fuzz/fuzz-tlsalpn01-name.c
tests_fuzz_fuzz_tlsalpn01_name_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_tlsalpn01_name_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_tlsalpn01_name_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_endpoint_string_SOURCES = tests/fuzz/fuzz-endpoint-string.c tests/fuzz/replay.c
tests_fuzz_replay_endpoint_string_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"endpoint-string"'
tests_fuzz_replay_endpoint_string_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_endpoint_string_SOURCES = tests/fuzz/fuzz-endpoint-string.c
tests_fuzz_fuzz_endpoint_string_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_endpoint_string_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_endpoint_string_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_clienthello_SOURCES = tests/fuzz/fuzz-clienthello.c tests/fuzz/replay.c
tests_fuzz_replay_clienthello_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"clienthello"'
tests_fuzz_replay_clienthello_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_clienthello_SOURCES = tests/fuzz/fuzz-clienthello.c
tests_fuzz_fuzz_clienthello_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_clienthello_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_clienthello_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_dns_answer_SOURCES = tests/fuzz/fuzz-dns-answer.c tests/fuzz/replay.c
tests_fuzz_replay_dns_answer_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"dns-answer"'
tests_fuzz_replay_dns_answer_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_answer_SOURCES = tests/fuzz/fuzz-dns-answer.c
tests_fuzz_fuzz_dns_answer_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_dns_answer_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_answer_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_dns_txt_SOURCES = tests/fuzz/fuzz-dns-txt.c tests/fuzz/replay.c
tests_fuzz_replay_dns_txt_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"dns-txt"'
tests_fuzz_replay_dns_txt_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_txt_SOURCES = tests/fuzz/fuzz-dns-txt.c
tests_fuzz_fuzz_dns_txt_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_dns_txt_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_txt_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_dns_zone_SOURCES = tests/fuzz/fuzz-dns-zone.c tests/fuzz/replay.c
tests_fuzz_replay_dns_zone_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"dns-zone"'
tests_fuzz_replay_dns_zone_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_zone_SOURCES = tests/fuzz/fuzz-dns-zone.c
tests_fuzz_fuzz_dns_zone_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_dns_zone_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_zone_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_dns_config_SOURCES = tests/fuzz/fuzz-dns-config.c tests/fuzz/replay.c
tests_fuzz_replay_dns_config_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"dns-config"'
tests_fuzz_replay_dns_config_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_config_SOURCES = tests/fuzz/fuzz-dns-config.c
tests_fuzz_fuzz_dns_config_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_dns_config_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_replay_dns_xml_SOURCES = tests/fuzz/fuzz-dns-xml.c tests/fuzz/replay.c
tests_fuzz_replay_dns_xml_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"dns-xml"'
tests_fuzz_replay_dns_xml_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_xml_SOURCES = tests/fuzz/fuzz-dns-xml.c
tests_fuzz_fuzz_dns_xml_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_dns_xml_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dns_xml_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

# acmed-conf: bin/acmed/config.c (and log.c, for the log level names) is
# compiled into the target, as acmed has no library of its own; both use
# the public API only.
FUZZ_ACMED_SOURCES = tests/fuzz/fuzz-acmed-conf.c bin/acmed/config.c bin/acmed/log.c \
	bin/acmed/acmed.h
FUZZ_ACMED_CPPFLAGS = $(FUZZ_CPPFLAGS) -DSYSCONFDIR=\"$(sysconfdir)\" $(INIH_CFLAGS)
FUZZ_ACMED_LDADD = $(FUZZ_LDADD) $(INIH_LIBS)
tests_fuzz_replay_acmed_conf_SOURCES = $(FUZZ_ACMED_SOURCES) tests/fuzz/replay.c
tests_fuzz_replay_acmed_conf_CPPFLAGS = $(FUZZ_ACMED_CPPFLAGS) -DFUZZ_NAME='"acmed-conf"'
tests_fuzz_replay_acmed_conf_LDADD = $(FUZZ_ACMED_LDADD)
tests_fuzz_fuzz_acmed_conf_SOURCES = $(FUZZ_ACMED_SOURCES)
tests_fuzz_fuzz_acmed_conf_CPPFLAGS = $(FUZZ_ACMED_CPPFLAGS)
tests_fuzz_fuzz_acmed_conf_LDADD = $(FUZZ_ACMED_LDADD)
tests_fuzz_fuzz_acmed_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

EXTRA_DIST += tests/fuzz/fuzz.h tests/fuzz/fuzz-client.h tests/fuzz/run.sh \
	tests/fuzz/ci.sh tests/fuzz/README tests/fuzz/corpus tests/fuzz/regressions

# make fuzz: build the libFuzzer targets; make fuzz-run: run each of them
# for FUZZ_SECONDS seconds (tests/fuzz/run.sh; crashes go to
# tests/fuzz/crashes/<name>/ in the build tree).
if ENABLE_FUZZ
fuzz: $(FUZZ_PROGS)
	@echo "fuzz targets built in tests/fuzz/: $(FUZZ_TARGETS)"
	@echo "run them with: make fuzz-run [FUZZ_SECONDS=30]"
fuzz-run: fuzz
	FUZZ_BUILDDIR="$(abs_builddir)/tests/fuzz" FUZZ_SRCDIR="$(abs_srcdir)/tests/fuzz" \
	$(SHELL) $(srcdir)/tests/fuzz/run.sh $(FUZZ_TARGETS)
else
fuzz fuzz-run:
	@echo "make $@: the libFuzzer targets need clang and --enable-fuzz:" >&2
	@echo "  mkdir ../build-fuzz && cd ../build-fuzz && $(abs_srcdir)/configure CC=clang --enable-fuzz && make fuzz" >&2
	@echo "(make check already replays their corpora and regressions)" >&2
	@exit 1
endif
.PHONY: fuzz fuzz-run
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf tests/fuzz/crashes tests/fuzz/work
.PHONY: clean-fuzz
