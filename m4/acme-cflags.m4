# ACME_CHECK_CFLAG(FLAG, ACTION-IF-OK)
# Runs ACTION-IF-OK when the C compiler accepts FLAG without a warning.
AC_DEFUN([ACME_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([acme_var], [acme_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [acme_var], [
    acme_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([acme_var], [yes])], [AS_VAR_SET([acme_var], [no])])
    CFLAGS=$acme_save_CFLAGS])
  AS_VAR_IF([acme_var], [yes], [$2])
  AS_VAR_POPDEF([acme_var])
])

# ACME_VISIBILITY: CFLAG_VISIBILITY=-fvisibility=hidden when supported,
# and HAVE_VISIBILITY for the export macro in <acme/common.h>.
AC_DEFUN([ACME_VISIBILITY], [
  CFLAG_VISIBILITY=
  ACME_CHECK_CFLAG([-fvisibility=hidden], [CFLAG_VISIBILITY=-fvisibility=hidden])
  AC_SUBST([CFLAG_VISIBILITY])
  dnl The linker version script; a regex export list when it is missing.
  AC_CACHE_CHECK([whether the linker accepts --version-script], [acme_cv_version_script], [
    acme_save_LDFLAGS=$LDFLAGS
    echo "TEST { global: main; local: *; };" > conftest.map
    LDFLAGS="$LDFLAGS -Wl,--version-script=conftest.map"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
      [acme_cv_version_script=yes], [acme_cv_version_script=no])
    rm -f conftest.map
    LDFLAGS=$acme_save_LDFLAGS])
  AM_CONDITIONAL([HAVE_VERSION_SCRIPT], [test "x$acme_cv_version_script" = xyes])
])

# ACME_SANITIZER: --with-sanitizer[=address,undefined|thread]
AC_DEFUN([ACME_SANITIZER], [
  AC_ARG_WITH([sanitizer],
    [AS_HELP_STRING([--with-sanitizer@<:@=LIST@:>@],
      [build with -fsanitize=LIST (default address,undefined; or thread)])],
    [], [with_sanitizer=no])
  AS_CASE([$with_sanitizer],
    [no], [with_sanitizer=],
    [yes], [with_sanitizer=address,undefined])
  AS_IF([test -n "$with_sanitizer"], [
    acme_san_flags="-fsanitize=$with_sanitizer -fno-omit-frame-pointer -g"
    AS_CASE([$with_sanitizer], [*undefined*],
      [acme_san_flags="$acme_san_flags -fno-sanitize-recover=undefined"])
    acme_save_CFLAGS=$CFLAGS; acme_save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS $acme_san_flags"; LDFLAGS="$LDFLAGS $acme_san_flags"
    AC_MSG_CHECKING([whether $CC supports -fsanitize=$with_sanitizer])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([the compiler cannot build with -fsanitize=$with_sanitizer])])
    CFLAGS=$acme_save_CFLAGS; LDFLAGS=$acme_save_LDFLAGS
    SANITIZER_CFLAGS=$acme_san_flags
  ])
  AC_SUBST([SANITIZER_CFLAGS])
  AM_CONDITIONAL([WITH_SANITIZER], [test -n "$with_sanitizer"])
])

# ACME_PTHREAD: PTHREAD_CFLAGS/PTHREAD_LIBS for a POSIX threads system.
AC_DEFUN([ACME_PTHREAD], [
  AC_CACHE_CHECK([for -pthread], [acme_cv_pthread], [
    acme_save_CFLAGS=$CFLAGS; CFLAGS="$CFLAGS -pthread"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <pthread.h>]],
      [[pthread_t t; pthread_create(&t, 0, 0, 0); return 0;]])],
      [acme_cv_pthread=yes], [acme_cv_pthread=no])
    CFLAGS=$acme_save_CFLAGS])
  AS_IF([test "x$acme_cv_pthread" != xyes],
    [AC_MSG_ERROR([POSIX threads (-pthread) are required])])
  PTHREAD_CFLAGS=-pthread
  PTHREAD_LIBS=-pthread
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])
