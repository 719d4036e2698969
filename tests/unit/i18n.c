/*
 * Unit tests: i18n (the library's own gettext text domain).
 *
 * po/fr.po is compiled with msgfmt into a temporary locale tree when the
 * test starts, the "libacme" domain is pointed at that tree, and then the
 * messages of real calls must come back in French under LANGUAGE=fr and
 * in English with LANGUAGE unset or "C".  This checks what a packager's
 * build cannot: that the library looks its messages up in its own domain
 * (dgettext, not gettext, which would use the program's domain), that the
 * strerror table and the formatted messages are both marked, and that the
 * catalogue keeps every format specifier in order (msgfmt --check).
 *
 * The catalogue is compiled at test time, not taken from po/fr.gmo: the
 * .gmo is built only by "make -C po" and may be stale or missing in a
 * build tree, and the test must not install anything.
 */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#if ENABLE_NLS
# include <libintl.h>
#endif

#include <acme/acme.h>

/* French typography: a no-break space before ":" and ";" and inside « ». */
#define NBSP "\xc2\xa0"

/*
 * With --disable-nls the library has no catalogue lookup at all, and its
 * documented behaviour is English whatever LANGUAGE says; FR() picks the
 * expectation that matches the build.
 */
#if ENABLE_NLS
# define FR(fr, en) (fr)
#else
# define FR(fr, en) (en)
#endif

/* The temporary tree: <localedir>/fr/LC_MESSAGES/libacme.mo */
static char *localedir;
static char *mo_dir;
static char *mo_file;

/*
 * Switch the message language as a program would.  Three glibc facts
 * matter here (each checked by hand with a small program):
 *
 * - gettext ignores LANGUAGE when the locale is "C" (POSIX output of the C
 *   locale must not depend on it), but "C.UTF-8" is a locale name other
 *   than "C", so LANGUAGE is honoured there.  C.UTF-8 is built into glibc
 *   (2.35 and later; Debian ships it in every release), so the test needs
 *   no fr_FR locale to be generated: LANGUAGE alone selects the catalogue.
 * - glibc caches each translation it found, keyed by domain and
 *   LC_MESSAGES locale name, not by LANGUAGE: after LANGUAGE goes from
 *   "fr" to unset, dgettext() still returns the cached French text.  The
 *   cache is dropped when the catalogue counter (_nl_msg_cat_cntr) moves.
 * - setlocale() moves that counter only when the locale really changes;
 *   setlocale(LC_ALL, "C.UTF-8") while already in C.UTF-8 is a no-op.
 *
 * So go through "C" and back.  This is the standard-API form of the
 * gettext manual's "++_nl_msg_cat_cntr" after a change of LANGUAGE.
 */
static void set_language(const char *lang)
{
    if (lang)
        g_assert_cmpint(g_setenv("LANGUAGE", lang, TRUE), ==, TRUE);
    else
        g_unsetenv("LANGUAGE");
    g_assert_cmpstr(setlocale(LC_ALL, "C"), ==, "C");
    g_assert_cmpstr(setlocale(LC_ALL, "C.UTF-8"), ==, "C.UTF-8");
}

/* Library up, domain bound to the temporary tree, language chosen. */
static void begin(const char *lang)
{
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
#if ENABLE_NLS
    /* After acme_global_init(), which binds the domain to LOCALEDIR. */
    g_assert_cmpstr(bindtextdomain(GETTEXT_PACKAGE, localedir), ==, localedir);
#endif
    set_language(lang);
}

static void end(void)
{
    set_language(NULL);
    acme_global_cleanup();
}

/*
 * acme_global_init() binds the domain to the install directory with UTF-8
 * output, and leaves the program's own locale and domain alone.
 */
static void test_init_binding(void)
{
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
#if ENABLE_NLS
    g_assert_cmpstr(bindtextdomain(GETTEXT_PACKAGE, NULL), ==, LOCALEDIR);
    g_assert_cmpstr(bind_textdomain_codeset(GETTEXT_PACKAGE, NULL), ==, "UTF-8");
    g_assert_cmpstr(textdomain(NULL), ==, "messages");
#endif
    g_assert_cmpstr(setlocale(LC_ALL, NULL), ==, "C.UTF-8");
    acme_global_cleanup();
}

/* Each producer makes one message through the public API, in the current language. */
typedef char *(*producer_fn)(void);

static char *strerror_network(void)
{
    return g_strdup(acme_strerror(ACME_E_NETWORK));
}

static char *strerror_timeout(void)
{
    return g_strdup(acme_strerror(ACME_E_TIMEOUT));
}

/* The message of a failed call; the call must have failed with @p code. */
static char *take_message(int rc, acme_error *e, int code)
{
    char *msg;

    g_assert_cmpint(rc, ==, code);
    g_assert_nonnull(e);
    g_assert_cmpint(acme_error_code_get(e), ==, code);
    msg = g_strdup(acme_error_message(e));
    acme_error_free(e);
    return msg;
}

static char *key_garbage(void)
{
    static const char pem[] = "this is not PEM at all\n";
    acme_key *key = NULL;
    acme_error *e = NULL;
    int rc = acme_key_load_pem(&key, pem, strlen(pem), &e);

    g_assert_null(key);
    return take_message(rc, e, ACME_E_INVALID);
}

/* A "%.*s" conversion: the key type is cut out of the PEM label. */
static char *key_dsa(void)
{
    static const char pem[] =
        "-----BEGIN DSA PRIVATE KEY-----\n"
        "MIIBuwIBAAKBgQD=\n"
        "-----END DSA PRIVATE KEY-----\n";
    acme_key *key = NULL;
    acme_error *e = NULL;
    int rc = acme_key_load_pem(&key, pem, strlen(pem), &e);

    g_assert_null(key);
    return take_message(rc, e, ACME_E_NOTSUP);
}

/* A "%zu" conversion: which certificate of the PEM is damaged. */
static char *chain_bad_base64(void)
{
    static const char pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "!!!! not base64 !!!!\n"
        "-----END CERTIFICATE-----\n";
    acme_chain *chain = NULL;
    acme_error *e = NULL;
    int rc = acme_chain_parse(&chain, pem, strlen(pem), &e);

    g_assert_null(chain);
    return take_message(rc, e, ACME_E_INVALID);
}

/* A "%s" conversion inside « »: the name the caller gave. */
static char *name_uppercase(void)
{
    acme_error *e = NULL;
    int rc = acme_name_validate("WWW.example.org", &e);

    return take_message(rc, e, ACME_E_INVALID);
}

typedef struct {
    const char *name;
    producer_fn produce;
    const char *fr;
    const char *en;
} msg_case;

static const msg_case msg_cases[] = {
    { "strerror-network", strerror_network, "erreur réseau", "network error" },
    { "strerror-timeout", strerror_timeout, "délai d'attente de l'opération dépassé",
      "operation timed out" },
    { "key-garbage", key_garbage, "aucune clé privée PEM trouvée", "no PEM private key found" },
    { "key-dsa", key_dsa,
      "type de clé non pris en charge" NBSP ": DSA (utilisez EC P-256, EC P-384 ou RSA "
      "d'au moins 2048 bits)",
      "unsupported key type: DSA (use EC P-256, EC P-384 or RSA of at least 2048 bits)" },
    { "chain-bad-base64", chain_bad_base64,
      "certificat n° 1 endommagé dans le PEM" NBSP ": base64 incorrect",
      "damaged certificate 1 in PEM: bad base64" },
    { "name-uppercase", name_uppercase,
      "le nom de serveur «" NBSP "WWW.example.org" NBSP "» contient des majuscules" NBSP
      "; les noms sont enregistrés en minuscules",
      "server name \"WWW.example.org\" has uppercase letters; names are stored in lowercase" },
};

typedef struct {
    const msg_case *c;
    const char *lang; /* LANGUAGE, or NULL to unset it */
    bool french;      /* whether the catalogue applies */
} lang_case;

static void test_message(gconstpointer data)
{
    const lang_case *lc = data;
    const char *want = lc->french ? FR(lc->c->fr, lc->c->en) : lc->c->en;
    char *got;

    begin(lc->lang);
    got = lc->c->produce();
    g_assert_cmpstr(got, ==, want);
    g_free(got);
    end();
}

/*
 * One initialisation, several languages in a row: English, French,
 * English again...  This fails if a translation of the previous language
 * leaks through gettext's cache (see set_language()), or if the library
 * kept a string translated by an earlier call (a static buffer, a table
 * translated once at init).
 */
static void test_switch(void)
{
    const char *seq[] = { NULL, "fr", "C", "fr_FR", NULL, "fr" };

    begin(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(seq); i++) {
        bool french = seq[i] && g_str_has_prefix(seq[i], "fr");

        set_language(seq[i]);
        for (size_t j = 0; j < G_N_ELEMENTS(msg_cases); j++) {
            const msg_case *c = &msg_cases[j];
            char *got = c->produce();

            g_assert_cmpstr(got, ==, french ? FR(c->fr, c->en) : c->en);
            g_free(got);
        }
    }
    end();
}

/*
 * Compile po/fr.po into <localedir>/fr/LC_MESSAGES/libacme.mo.  msgfmt
 * --check also fails on a translation whose format specifiers differ from
 * the msgid's, which would otherwise be undefined behaviour at run time.
 */
static int compile_catalogue(void)
{
    char *msgfmt = g_find_program_in_path("msgfmt");
    char *po = g_test_build_filename(G_TEST_DIST, "..", "po", "fr.po", NULL);
    char *out = NULL, *errs = NULL;
    GError *ge = NULL;
    int status = 0, ret = 0;

    if (!msgfmt) {
        /* A hard error, not a skip: the translation would go untested. */
        printf("Bail out! msgfmt not found on PATH (Debian: apt-get install gettext)\n");
        ret = 99;
        goto out;
    }
    if (!g_file_test(po, G_FILE_TEST_IS_REGULAR)) {
        printf("Bail out! %s not found (set G_TEST_SRCDIR to the source tests/ directory)\n", po);
        ret = 99;
        goto out;
    }
    localedir = g_dir_make_tmp("libacme-i18n-XXXXXX", &ge);
    if (!localedir) {
        printf("Bail out! cannot make a temporary directory: %s\n", ge->message);
        ret = 99;
        goto out;
    }
    mo_dir = g_build_filename(localedir, "fr", "LC_MESSAGES", NULL);
    mo_file = g_build_filename(mo_dir, GETTEXT_PACKAGE ".mo", NULL);
    if (g_mkdir_with_parents(mo_dir, 0700) < 0) {
        printf("Bail out! cannot make %s\n", mo_dir);
        ret = 99;
        goto out;
    }
    {
        char *argv[] = { msgfmt, (char *)"--check", (char *)"-o", mo_file, po, NULL };

        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs, &status,
                          &ge)) {
            printf("Bail out! cannot run %s: %s\n", msgfmt, ge->message);
            ret = 99;
            goto out;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* The catalogue itself is wrong: a failure of this test. */
        printf("Bail out! msgfmt --check rejects %s:\n%s\n", po, errs ? errs : "");
        ret = 1;
    }
out:
    g_clear_error(&ge);
    g_free(out);
    g_free(errs);
    g_free(po);
    g_free(msgfmt);
    return ret;
}

static void remove_catalogue(void)
{
    if (mo_file)
        g_remove(mo_file);
    if (mo_dir) {
        g_rmdir(mo_dir);
        *strrchr(mo_dir, G_DIR_SEPARATOR) = '\0'; /* <localedir>/fr */
        g_rmdir(mo_dir);
    }
    if (localedir)
        g_rmdir(localedir);
    g_free(mo_file);
    g_free(mo_dir);
    g_free(localedir);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *suffix;
        const char *lang;
        bool french;
    } langs[] = {
        { "fr", "fr", true },
        { "fr_FR", "fr_FR", true },  /* falls back to the "fr" catalogue */
        { "unset", NULL, false },
        { "C", "C", false },
    };
    lang_case *cases;
    size_t n = 0;
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (!setlocale(LC_ALL, "C.UTF-8")) {
        printf("Bail out! the C.UTF-8 locale is missing\n");
        return 99;
    }
    if ((rc = compile_catalogue()) != 0) {
        remove_catalogue();
        return rc;
    }

    g_test_add_func("/i18n/init/binding", test_init_binding);
    cases = g_new0(lang_case, G_N_ELEMENTS(msg_cases) * G_N_ELEMENTS(langs));
    for (size_t i = 0; i < G_N_ELEMENTS(msg_cases); i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(langs); j++) {
            char *path = g_strdup_printf("/i18n/%s/%s", msg_cases[i].name, langs[j].suffix);

            cases[n] = (lang_case){ &msg_cases[i], langs[j].lang, langs[j].french };
            g_test_add_data_func(path, &cases[n++], test_message);
            g_free(path);
        }
    }
    g_test_add_func("/i18n/switch", test_switch);

    rc = g_test_run();
    g_free(cases);
    remove_catalogue();
    return rc;
}
