/*
 * util: translation of user-visible messages with the library's own text
 * domain.  The library never calls setlocale() or textdomain().
 */
#ifndef ACME_UTIL_I18N_H
#define ACME_UTIL_I18N_H

#include "config.h"

#if ENABLE_NLS
# include <libintl.h>
# define _(s) dgettext(GETTEXT_PACKAGE, s)
#else
# define _(s) (s)
#endif
#define N_(s) (s)

#endif
