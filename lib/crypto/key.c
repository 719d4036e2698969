/*
 * crypto: private keys: generation, PEM load and save, type, equality and
 * reference counting.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/util.h"

static acme_key *key_alloc(void)
{
    acme_key *k = calloc(1, sizeof(*k));

    if (!k)
        return NULL;
    atomic_init(&k->refs, 1);
    return k;
}

static void key_destroy(acme_key *k)
{
    if (k->pub)
        gnutls_pubkey_deinit(k->pub);
    if (k->priv)
        gnutls_privkey_deinit(k->priv);
    if (k->x509)
        gnutls_x509_privkey_deinit(k->x509);
    free(k);
}

acme_key *acme__key_ref(const acme_key *key)
{
    acme_key *k = (acme_key *)key;

    if (k)
        atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
    return k;
}

void acme_key_free(acme_key *key)
{
    if (!key)
        return;
    if (atomic_fetch_sub_explicit(&key->refs, 1, memory_order_acq_rel) == 1)
        key_destroy(key);
}

/* The name of a key type people can act on, for "not supported" errors. */
static char *describe_unsupported(gnutls_pk_algorithm_t pk, unsigned int bits,
                                  gnutls_ecc_curve_t curve)
{
    const char *name = gnutls_pk_algorithm_get_name(pk);

    if (pk == GNUTLS_PK_ECDSA && curve == GNUTLS_ECC_CURVE_SECP521R1)
        return acme__strdup("EC P-521");
    if (pk == GNUTLS_PK_ECDSA && curve != GNUTLS_ECC_CURVE_INVALID)
        return acme__asprintf("EC %s", gnutls_ecc_curve_get_name(curve));
    if (pk == GNUTLS_PK_RSA)
        return acme__asprintf("RSA %u bits", bits);
    return acme__strdup(name ? name : "unknown");
}

/*
 * Fill in priv, pub, type and bits from k->x509.  Returns ACME_E_NOTSUP
 * with a message naming the type for keys we do not use.
 */
static int key_finish(acme_key *k, acme_error **err)
{
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    unsigned int bits = 0;
    int ret, pk;

    pk = gnutls_x509_privkey_get_pk_algorithm2(k->x509, &bits);
    if (pk < 0)
        return acme__gnutls_error(err, ACME_E_INVALID, pk, _("unreadable private key"));
    k->pk = (gnutls_pk_algorithm_t)pk;
    if (k->pk == GNUTLS_PK_ECDSA) {
        ret = gnutls_x509_privkey_export_ecc_raw(k->x509, &curve, NULL, NULL, NULL);
        if (ret < 0)
            return acme__gnutls_error(err, ACME_E_INVALID, ret, _("unreadable EC key"));
    }
    if (k->pk == GNUTLS_PK_ECDSA && curve == GNUTLS_ECC_CURVE_SECP256R1) {
        k->type = ACME_KEY_EC_P256;
        k->bits = 256;
    } else if (k->pk == GNUTLS_PK_ECDSA && curve == GNUTLS_ECC_CURVE_SECP384R1) {
        k->type = ACME_KEY_EC_P384;
        k->bits = 384;
    } else if (k->pk == GNUTLS_PK_RSA && bits >= 2048) {
        k->bits = bits;
        k->type = bits == 2048 ? ACME_KEY_RSA_2048
                : bits == 3072 ? ACME_KEY_RSA_3072
                : bits == 4096 ? ACME_KEY_RSA_4096
                               : ACME_KEY_RSA;
    } else {
        char *what = describe_unsupported(k->pk, bits, curve);

        ret = acme_error_set(err, ACME_E_NOTSUP,
                             _("unsupported key type: %s (use EC P-256, EC P-384 or RSA of "
                               "at least 2048 bits)"),
                             what ? what : "?");
        free(what);
        return ret;
    }
    if ((ret = gnutls_privkey_init(&k->priv)) < 0 ||
        (ret = gnutls_privkey_import_x509(k->priv, k->x509, 0)) < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot use private key"));
    if ((ret = gnutls_pubkey_init(&k->pub)) < 0 ||
        (ret = gnutls_pubkey_import_privkey(k->pub, k->priv, 0, 0)) < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot derive public key"));
    return ACME_OK;
}

int acme__key_generate(acme_key **out, acme_key_type type, acme_error **err)
{
    gnutls_pk_algorithm_t pk;
    unsigned int bits;
    acme_key *k;
    int ret, rc;

    *out = NULL;
    switch (type) {
    case ACME_KEY_EC_P256:
        pk = GNUTLS_PK_ECDSA;
        bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
        break;
    case ACME_KEY_EC_P384:
        pk = GNUTLS_PK_ECDSA;
        bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1);
        break;
    case ACME_KEY_RSA_2048:
    case ACME_KEY_RSA_3072:
    case ACME_KEY_RSA_4096:
        pk = GNUTLS_PK_RSA;
        bits = type == ACME_KEY_RSA_2048 ? 2048 : type == ACME_KEY_RSA_3072 ? 3072 : 4096;
        break;
    default:
        return acme_error_set(err, ACME_E_INVALID,
                              _("cannot generate a key of type %d: choose EC P-256, EC P-384 "
                                "or RSA 2048/3072/4096"),
                              (int)type);
    }
    if (!(k = key_alloc()))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if ((ret = gnutls_x509_privkey_init(&k->x509)) < 0 ||
        (ret = gnutls_x509_privkey_generate(k->x509, pk, bits, 0)) < 0) {
        key_destroy(k);
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("key generation failed"));
    }
    if ((rc = key_finish(k, err)) < 0) {
        key_destroy(k);
        return rc;
    }
    *out = k;
    return ACME_OK;
}

int acme_key_generate(acme_key **out, acme_key_type type, acme_error **err)
{
    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the key"));
    return acme__key_generate(out, type, err);
}

/* Import one PEM block holding a private key into k->x509. */
static int import_block(acme_key *k, const acme__pem_block *blk, acme_error **err)
{
    gnutls_datum_t d = { (unsigned char *)blk->begin, (unsigned int)blk->len };
    int ret;

    if (blk->len > UINT32_MAX)
        return acme_error_set(err, ACME_E_INVALID, _("private key PEM too large"));
    if (acme__pem_label_is(blk, "ENCRYPTED PRIVATE KEY"))
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("encrypted private keys are not supported; decrypt it first"));
    if (acme__pem_label_is(blk, "PRIVATE KEY"))
        ret = gnutls_x509_privkey_import_pkcs8(k->x509, &d, GNUTLS_X509_FMT_PEM, NULL,
                                               GNUTLS_PKCS_PLAIN);
    else if (acme__pem_label_is(blk, "RSA PRIVATE KEY") ||
             acme__pem_label_is(blk, "EC PRIVATE KEY"))
        ret = gnutls_x509_privkey_import(k->x509, &d, GNUTLS_X509_FMT_PEM);
    else if (acme__pem_label_is(blk, "OPENSSH PRIVATE KEY"))
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("OpenSSH private keys are not supported; convert the key to "
                                "PKCS#8 PEM first"));
    else
        /* "DSA PRIVATE KEY" and the like: name the type before " PRIVATE KEY". */
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("unsupported key type: %.*s (use EC P-256, EC P-384 or RSA of "
                                "at least 2048 bits)"),
                              (int)(blk->label_len - strlen(" PRIVATE KEY")), blk->label);
    switch (ret) {
    case 0:
        break;
    case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
    case GNUTLS_E_UNIMPLEMENTED_FEATURE:
    case GNUTLS_E_UNKNOWN_ALGORITHM:
    case GNUTLS_E_ECC_UNSUPPORTED_CURVE:
        return acme__gnutls_error(err, ACME_E_NOTSUP, ret, _("unsupported key type"));
    default:
        return acme__gnutls_error(err, ACME_E_INVALID, ret, _("damaged private key"));
    }
    if ((ret = gnutls_x509_privkey_verify_params(k->x509)) < 0)
        return acme__gnutls_error(err, ACME_E_INVALID, ret, _("inconsistent private key"));
    return ACME_OK;
}

int acme_key_load_pem(acme_key **out, const char *pem, size_t len, acme_error **err)
{
    acme__pem_block blk;
    size_t pos = 0;
    acme_key *k;
    int found, rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the key"));
    *out = NULL;
    if (!pem)
        return acme_error_set(err, ACME_E_INVALID, _("no private key given"));
    while ((found = acme__pem_next(pem, len, &pos, &blk)) == 1) {
        const char *suffix = "PRIVATE KEY";
        size_t slen = strlen(suffix);

        if (blk.label_len >= slen && memcmp(blk.label + blk.label_len - slen, suffix, slen) == 0)
            break;
    }
    if (found < 0)
        return acme_error_set(err, ACME_E_INVALID, _("damaged PEM: a block has no end line"));
    if (found == 0)
        return acme_error_set(err, ACME_E_INVALID, _("no PEM private key found"));
    if (!(k = key_alloc()))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if ((rc = gnutls_x509_privkey_init(&k->x509)) < 0) {
        key_destroy(k);
        return acme__gnutls_error(err, ACME_E_CRYPTO, rc, _("cannot load private key"));
    }
    if ((rc = import_block(k, &blk, err)) < 0 || (rc = key_finish(k, err)) < 0) {
        key_destroy(k);
        return rc;
    }
    *out = k;
    return ACME_OK;
}

int acme_key_save_pem(char **out, const acme_key *key, acme_key_format format, acme_error **err)
{
    gnutls_datum_t d = { NULL, 0 };
    int ret;

    if (!out || !key)
        return acme_error_set(err, ACME_E_INVALID, _("no key to save"));
    *out = NULL;
    if (format == ACME_KEY_FORMAT_PKCS8)
        ret = gnutls_x509_privkey_export2_pkcs8(key->x509, GNUTLS_X509_FMT_PEM, NULL,
                                                GNUTLS_PKCS_PLAIN, &d);
    else if (format == ACME_KEY_FORMAT_TRADITIONAL)
        ret = gnutls_x509_privkey_export2(key->x509, GNUTLS_X509_FMT_PEM, &d);
    else
        return acme_error_set(err, ACME_E_INVALID, _("unknown key format %d"), (int)format);
    if (ret < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot export private key"));
    *out = acme__datum_strdup(&d);
    acme__datum_wipe(&d);
    if (!*out)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}

acme_key_type acme_key_get_type(const acme_key *key)
{
    return key ? key->type : (acme_key_type)0;
}

unsigned int acme_key_bits(const acme_key *key)
{
    return key ? key->bits : 0;
}

const char *acme_key_jws_alg(const acme_key *key)
{
    if (!key)
        return NULL;
    switch (key->type) {
    case ACME_KEY_EC_P256:
        return "ES256";
    case ACME_KEY_EC_P384:
        return "ES384";
    default:
        return "RS256";
    }
}

gnutls_digest_algorithm_t acme__key_digest(const acme_key *key)
{
    return key->type == ACME_KEY_EC_P384 ? GNUTLS_DIG_SHA384 : GNUTLS_DIG_SHA256;
}

bool acme_key_equal(const acme_key *a, const acme_key *b)
{
    gnutls_datum_t da = { NULL, 0 }, db = { NULL, 0 };
    bool eq;

    if (!a || !b)
        return false;
    if (a == b)
        return true;
    if (acme__pubkey_der(a->pub, &da) < 0 || acme__pubkey_der(b->pub, &db) < 0) {
        gnutls_free(da.data);
        gnutls_free(db.data);
        return false;
    }
    eq = da.size == db.size && memcmp(da.data, db.data, da.size) == 0;
    gnutls_free(da.data);
    gnutls_free(db.data);
    return eq;
}

/* Copy an unsigned big-endian integer into out[size], left-padded with zeros. */
static int pad_left(unsigned char *out, size_t size, const gnutls_datum_t *v)
{
    size_t n = v->size, skip = 0;

    while (skip < n && v->data[skip] == 0)
        skip++;
    n -= skip;
    if (n > size)
        return -1;
    memset(out, 0, size - n);
    memcpy(out + size - n, v->data + skip, n);
    return 0;
}

int acme__key_sign_jws(unsigned char **sig, size_t *siglen, const acme_key *key,
                       const void *data, size_t len, acme_error **err)
{
    gnutls_datum_t in = { (unsigned char *)data, (unsigned int)len };
    gnutls_datum_t der = { NULL, 0 }, r = { NULL, 0 }, s = { NULL, 0 };
    unsigned char *out;
    size_t half;
    int ret;

    *sig = NULL;
    *siglen = 0;
    if (len > UINT32_MAX)
        return acme_error_set(err, ACME_E_INVALID, _("data to sign too large"));
    ret = gnutls_privkey_sign_data(key->priv, acme__key_digest(key), 0, &in, &der);
    if (ret < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("signing failed"));
    if (key->pk != GNUTLS_PK_ECDSA) {
        out = malloc(der.size ? der.size : 1);
        if (!out) {
            gnutls_free(der.data);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
        memcpy(out, der.data, der.size);
        *sig = out;
        *siglen = der.size;
        gnutls_free(der.data);
        return ACME_OK;
    }
    /* ECDSA: DER SEQUENCE { r, s } into the fixed-size r||s of RFC 7518 §3.4. */
    half = key->bits == 384 ? 48 : 32;
    ret = gnutls_decode_rs_value(&der, &r, &s);
    gnutls_free(der.data);
    if (ret < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("unreadable ECDSA signature"));
    out = malloc(2 * half);
    if (!out) {
        gnutls_free(r.data);
        gnutls_free(s.data);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (pad_left(out, half, &r) < 0 || pad_left(out + half, half, &s) < 0) {
        gnutls_free(r.data);
        gnutls_free(s.data);
        free(out);
        return acme_error_set(err, ACME_E_CRYPTO, _("ECDSA signature larger than the curve"));
    }
    gnutls_free(r.data);
    gnutls_free(s.data);
    *sig = out;
    *siglen = 2 * half;
    return ACME_OK;
}
