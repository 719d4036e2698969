# Built-in DNS providers: Gandi LiveDNS, OVHcloud, acme-dns, exec (a user
# program); and the OVH request signature (lib/crypto, for GnuTLS).
lib_libacme_internal_la_SOURCES += lib/dns/providers/gandiv5.c
lib_libacme_internal_la_SOURCES += lib/dns/providers/ovh.c
lib_libacme_internal_la_SOURCES += lib/dns/providers/acmedns.c
lib_libacme_internal_la_SOURCES += lib/dns/providers/exec.c
lib_libacme_internal_la_SOURCES += lib/crypto/ovhsig.c lib/crypto/ovhsig.h
EXTRA_DIST += lib/dns/providers/dnsp3.mk
