# lib/dns/providers/rfc2136: RFC 2136 dynamic update signed with TSIG
# (RFC 8945); its HMACs live in lib/crypto/tsig.c (only lib/crypto/
# includes GnuTLS).
lib_libacme_internal_la_SOURCES += \
	lib/dns/providers/rfc2136.c lib/dns/providers/rfc2136-msg.c \
	lib/dns/providers/rfc2136.h \
	lib/crypto/tsig.c lib/crypto/tsig.h
EXTRA_DIST += lib/dns/providers/rfc2136.mk
