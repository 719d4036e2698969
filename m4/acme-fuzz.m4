# ACME_FUZZ: --enable-fuzz builds the libFuzzer targets of tests/fuzz.
#
# libFuzzer comes with clang (Debian: apt-get install clang), so the
# switch needs CC=clang.  The whole tree is then compiled with
# -fsanitize=fuzzer-no-link (coverage feedback from the library, not just
# the target) plus AddressSanitizer and UndefinedBehaviorSanitizer, UB
# being fatal so that libFuzzer sees it as a crash; only the fuzz-<name>
# programs link libFuzzer itself (FUZZ_LDFLAGS).  Run it after
# ACME_SANITIZER: it replaces SANITIZER_CFLAGS.
AC_DEFUN([ACME_FUZZ], [
  AC_ARG_ENABLE([fuzz],
    [AS_HELP_STRING([--enable-fuzz],
      [build the libFuzzer targets in tests/fuzz (needs CC=clang; implies
       --with-sanitizer=address,undefined)])],
    [], [enable_fuzz=no])
  FUZZ_LDFLAGS=
  AS_IF([test "x$enable_fuzz" = xyes], [
    AC_MSG_CHECKING([whether $CC is clang])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [[
#ifndef __clang__
#error not clang
#endif
]])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([--enable-fuzz needs clang and its libFuzzer: ./configure CC=clang --enable-fuzz (Debian: apt-get install clang)])])
    AS_CASE([$with_sanitizer],
      [""|address,undefined|undefined,address], [],
      [AC_MSG_ERROR([--enable-fuzz builds with address,undefined; drop --with-sanitizer=$with_sanitizer])])
    with_sanitizer=address,undefined
    SANITIZER_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
    AC_MSG_CHECKING([whether $CC links libFuzzer targets])
    acme_save_CFLAGS=$CFLAGS; acme_save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS $SANITIZER_CFLAGS"; LDFLAGS="$LDFLAGS $SANITIZER_CFLAGS -fsanitize=fuzzer"
    AC_LINK_IFELSE([AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { (void)data; return size > 1000; }
]])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([$CC cannot link with -fsanitize=fuzzer (Debian: apt-get install clang)])])
    CFLAGS=$acme_save_CFLAGS; LDFLAGS=$acme_save_LDFLAGS
    FUZZ_LDFLAGS=-fsanitize=fuzzer
  ])
  AC_SUBST([FUZZ_LDFLAGS])
  AM_CONDITIONAL([ENABLE_FUZZ], [test "x$enable_fuzz" = xyes])
])
