# DNS providers Amazon Route 53 and Google Cloud DNS (owned by the dnsp2
# area), with the crypto they need: AWS SigV4 and JWT signing.
lib_libacme_internal_la_SOURCES += lib/crypto/sigv4.c lib/crypto/sigv4.h
lib_libacme_internal_la_SOURCES += lib/crypto/jwt.c lib/crypto/jwt.h
lib_libacme_internal_la_SOURCES += lib/dns/providers/xml.c lib/dns/providers/xml.h
lib_libacme_internal_la_SOURCES += lib/dns/providers/route53.c
lib_libacme_internal_la_SOURCES += lib/dns/providers/gcloud.c
EXTRA_DIST += lib/dns/providers/dnsp2.mk
