# tests/unit/crypto (owned by the crypto area).
check_PROGRAMS += tests/unit/crypto
TESTS += tests/unit/crypto
tests_unit_crypto_SOURCES = tests/unit/crypto.c
tests_unit_crypto_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_crypto_LDADD = $(TESTS_LDADD)
EXTRA_DIST += \
	tests/data/crypto/README \
	tests/data/crypto/ca-key-p256-sec1.pem \
	tests/data/crypto/chain.pem \
	tests/data/crypto/dsa.pem \
	tests/data/crypto/ec-p256-encrypted.pem \
	tests/data/crypto/ec-p256-short-x.pem \
	tests/data/crypto/ec-p384-pkcs8.pem \
	tests/data/crypto/ed25519.pem \
	tests/data/crypto/int-key-rsa2048-trad.pem \
	tests/data/crypto/leaf-key-p384-sec1.pem \
	tests/data/crypto/p521.pem \
	tests/data/crypto/rfc9773-example.pem \
	tests/data/crypto/rsa-pss.pem \
	tests/data/crypto/rsa1024.pem \
	tests/data/crypto/rsa3072-pkcs8.pem
