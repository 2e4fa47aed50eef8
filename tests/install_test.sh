#!/bin/sh
# install_test.sh MODE -- prove that an installed clearn is usable from an
# outside project.  MODE is "cmake" or "pkgconfig".  Registered by
# tests/install.cmake, which passes the build's settings in the environment:
#   CLEARN_BUILD_DIR CLEARN_OUTSIDE_DIR CLEARN_VERSION CLEARN_LIBDIR
#   CLEARN_INCLUDEDIR CLEARN_MPI CLEARN_CONFIG CMAKE CTEST CMAKE_GENERATOR
#   CC NM READELF PKG_CONFIG MPICC MPIEXEC
#
# Both modes install the build tree with `cmake --install --prefix` into a
# fresh directory under ${TMPDIR:-/tmp} (removed on exit unless
# CLEARN_KEEP_TMP=1), check the installed files and the symbols the shared
# libraries export, then
#   cmake:     configure, build and ctest tests/outside/ with
#              CMAKE_PREFIX_PATH=<prefix> (clearn::clearn, clearn::clearn_static,
#              clearn::clearn_mpi under mpirun -np 2);
#   pkgconfig: compile tests/outside/*.c with `pkg-config clearn` (shared),
#              `pkg-config --static clearn` against libclearn.a, and
#              `pkg-config clearn-mpi` (cc and mpicc, run under mpirun -np 2),
#              and check that every installed header compiles on its own.
# Exit status: 0 pass, 1 fail, 77 skipped.
# Compiler flags and pkg-config output are word-split on purpose.
# shellcheck disable=SC2046,SC2086
set -eu

mode=${1:?usage: install_test.sh cmake|pkgconfig}
: "${CLEARN_BUILD_DIR:?}" "${CLEARN_OUTSIDE_DIR:?}" "${CLEARN_VERSION:?}"
: "${CLEARN_LIBDIR:?}" "${CLEARN_INCLUDEDIR:?}"
CLEARN_MPI=${CLEARN_MPI:-OFF}
CLEARN_CONFIG=${CLEARN_CONFIG:-}
CMAKE=${CMAKE:-cmake}
CTEST=${CTEST:-ctest}
CC=${CC:-cc}
NM=${NM:-nm}
READELF=${READELF:-readelf}
PKG_CONFIG=${PKG_CONFIG:-}
MPICC=${MPICC:-}
MPIEXEC=${MPIEXEC:-}
# Tools CMake did not find arrive as "...-NOTFOUND".
case $PKG_CONFIG in *NOTFOUND) PKG_CONFIG= ;; esac
case $MPICC in *NOTFOUND) MPICC= ;; esac
case $MPIEXEC in *NOTFOUND) MPIEXEC= ;; esac
case $NM in ''|*NOTFOUND) NM="nm" ;; esac
case $READELF in ''|*NOTFOUND) READELF="readelf" ;; esac
case $CLEARN_MPI in ON|on|1|TRUE|true|YES|yes) mpi=1 ;; *) mpi=0 ;; esac

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
step() { echo "---- $*"; }

case $mode in cmake|pkgconfig) ;; *) die "unknown mode '$mode'" ;; esac
case $CLEARN_LIBDIR in
  /*) skip "CMAKE_INSTALL_LIBDIR is absolute ($CLEARN_LIBDIR): --prefix cannot relocate it" ;;
esac
case $CLEARN_INCLUDEDIR in
  /*) skip "CMAKE_INSTALL_INCLUDEDIR is absolute ($CLEARN_INCLUDEDIR)" ;;
esac
if [ "$mode" = pkgconfig ] && [ -z "$PKG_CONFIG" ]; then
  skip "pkg-config not found (Debian package pkgconf)"
fi

# mpirun refuses root unless told otherwise (containers, CI), and a small
# machine may have fewer cores than the 2 ranks we start.
if [ "$(id -u)" = 0 ]; then
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
fi
OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_rmaps_base_oversubscribe

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clearn-install-$mode.XXXXXX")
cleanup() {
  if [ "${CLEARN_KEEP_TMP:-0}" = 1 ]; then
    echo "kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

prefix=$tmp/prefix
libdir=$prefix/$CLEARN_LIBDIR
incdir=$prefix/$CLEARN_INCLUDEDIR

# ---- install --------------------------------------------------------------
step "install $CLEARN_BUILD_DIR into $prefix"
unset DESTDIR
if [ -n "$CLEARN_CONFIG" ]; then
  "$CMAKE" --install "$CLEARN_BUILD_DIR" --prefix "$prefix" --config "$CLEARN_CONFIG"
else
  "$CMAKE" --install "$CLEARN_BUILD_DIR" --prefix "$prefix"
fi

step "installed files"
expect="$incdir/clearn/clearn.h $incdir/clearn/core.h $incdir/clearn/matrix.h
        $incdir/clearn/estimator.h
        $libdir/libclearn.so $libdir/libclearn.a
        $libdir/cmake/clearn/clearnConfig.cmake
        $libdir/cmake/clearn/clearnConfigVersion.cmake
        $libdir/cmake/clearn/clearnTargets.cmake
        $libdir/pkgconfig/clearn.pc"
if [ $mpi = 1 ]; then
  expect="$expect $incdir/clearn/clearn_mpi.h $libdir/libclearn_mpi.so
          $libdir/pkgconfig/clearn-mpi.pc"
fi
for f in $expect; do
  [ -f "$f" ] || fail "missing ${f#"$prefix"/}"
done
[ "$failures" = 0 ] || die "installed tree incomplete"
# Internal headers must stay in the source tree.
[ -e "$incdir/clearn/internal.h" ] && fail "internal.h was installed"
[ -e "$incdir/internal.h" ] && fail "internal.h was installed"

needs_libclearn() { # exe -> 0 if it has a DT_NEEDED on libclearn.so*
  "$READELF" -d "$1" | grep -q 'NEEDED.*\[libclearn\.so'
}

# ---- exported symbols ------------------------------------------------------
# The shared libraries export their public API and nothing else: no clearn__
# internals and no copies of HDF5/BLAS/LAPACK or other third-party symbols.
check_exports() { # lib allowed-regex
  "$NM" -D --defined-only "$1" > "$tmp/nm.raw" ||
    { fail "$NM -D failed on $1"; return; }
  awk '{print $NF}' "$tmp/nm.raw" > "$tmp/nm.out"
  grep -v -E "$2" "$tmp/nm.out" > "$tmp/nm.bad" || true
  if [ -s "$tmp/nm.bad" ]; then
    fail "${1##*/} exports symbols outside $2:"
    head -20 "$tmp/nm.bad" >&2
  fi
  n=$(grep -c -E "$2" "$tmp/nm.out" || true)
  [ "$n" -gt 0 ] || fail "${1##*/} exports no public symbol at all"
  echo "${1##*/}: $n exported symbols, all matching $2"
}
step "exported symbols"
# Besides the public API, libclearn.so exports exactly the internals that
# libclearn_mpi calls (marked CLEARN__SHARED in src/internal.h); any other
# clearn__ name is a leak.
shared_internals='clearn__(err|errmsg|malloc|param_format|est_fail|est_set_model|validate_xy|check_predict|score_with|ckpt_write|shard_serial|shard_serial_free|type_fit|id_lookup)$'
check_exports "$libdir/libclearn.so" "^clearn_[a-z0-9]|^$shared_internals"
if [ $mpi = 1 ]; then
  # libclearn_mpi.so links libclearn.so and exports only its own API: no
  # second copy of the core.
  check_exports "$libdir/libclearn_mpi.so" '^clearn_mpi_'
  grep -q '^clearn_mpi_estimator_fit$' "$tmp/nm.out" ||
    fail "libclearn_mpi.so does not export clearn_mpi_estimator_fit"
  needs_libclearn "$libdir/libclearn_mpi.so" ||
    fail "libclearn_mpi.so does not link libclearn.so"
fi
# The archive cannot hide its internals, but it must not define global
# names outside the clearn_ / clearn__ namespace (they would collide with
# the user's own).
"$NM" -g --defined-only "$libdir/libclearn.a" 2>/dev/null |
  awk 'NF == 3 {print $3}' | grep -v '^clearn_' > "$tmp/nm.bad" || true
if [ -s "$tmp/nm.bad" ]; then
  fail "libclearn.a defines global symbols outside clearn_*:"
  head -20 "$tmp/nm.bad" >&2
fi


run_mpi() { # exe; locally started ranks inherit LD_LIBRARY_PATH
  [ -n "$MPIEXEC" ] || { fail "MPI layer built but no mpiexec known"; return; }
  "$MPIEXEC" -n 2 "$1" || fail "$MPIEXEC -n 2 $1"
}

cd "$tmp"

# ---- CMake package ---------------------------------------------------------
if [ "$mode" = cmake ]; then
  step "configure tests/outside with CMAKE_PREFIX_PATH=$prefix"
  "$CMAKE" -S "$CLEARN_OUTSIDE_DIR" -B "$tmp/build" -G "$CMAKE_GENERATOR" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF ||
    die "outside project does not configure"
  found=$(sed -n 's/^clearn_DIR:PATH=//p' "$tmp/build/CMakeCache.txt")
  [ "$found" = "$libdir/cmake/clearn" ] ||
    fail "find_package(clearn) used '$found', not the fresh install"
  step "build"
  "$CMAKE" --build "$tmp/build" --config Release ||
    die "outside project does not build"
  step "run"
  "$CTEST" --test-dir "$tmp/build" -C Release --output-on-failure ||
    fail "outside programs failed"
  shared=$tmp/build/outside_shared
  static=$tmp/build/outside_static
  needs_libclearn "$shared" || fail "outside_shared does not link libclearn.so"
  ldd "$shared" | grep -q "libclearn\.so.*=> $libdir/" ||
    fail "outside_shared does not load libclearn.so from $libdir"
  needs_libclearn "$static" &&
    fail "outside_static links libclearn.so instead of libclearn.a"
  if [ $mpi = 1 ]; then
    [ -x "$tmp/build/outside_mpi" ] ||
      fail "clearn was built with MPI but clearn_mpi_FOUND was false"
  fi
fi

# ---- pkg-config ------------------------------------------------------------
if [ "$mode" = pkgconfig ]; then
  PKG_CONFIG_PATH=$libdir/pkgconfig
  export PKG_CONFIG_PATH
  pc() { "$PKG_CONFIG" "$@"; }
  step "pkg-config clearn from $PKG_CONFIG_PATH"
  v=$(pc --modversion clearn) || die "pkg-config cannot read clearn.pc"
  [ "$v" = "$CLEARN_VERSION" ] || fail "clearn.pc version $v != $CLEARN_VERSION"
  # The .pc is relocatable: its libdir must be the fresh prefix's.
  pclib=$(pc --variable=libdir clearn)
  [ "$(cd "$pclib" && pwd -P)" = "$(cd "$libdir" && pwd -P)" ] ||
    fail "clearn.pc libdir '$pclib' is not $libdir"
  echo "cflags: $(pc --cflags clearn)"
  echo "libs:   $(pc --libs clearn)"
  echo "static: $(pc --static --libs clearn)"
  wflags="-std=c11 -Wall -Wextra -Werror"
  src=$CLEARN_OUTSIDE_DIR/outside_ridge.c

  step "shared: cc \$(pkg-config --cflags --libs clearn)"
  "$CC" $wflags "$src" -o pc_shared $(pc --cflags --libs clearn) -lm ||
    die "cannot build against pkg-config clearn"
  needs_libclearn pc_shared || fail "pc_shared does not link libclearn.so"
  LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    ./pc_shared pc_shared.h5 || fail "pc_shared"

  step "static: cc \$(pkg-config --static --cflags --libs clearn), libclearn.a"
  # pkg-config names the library -lclearn, which the linker resolves to the
  # .so when both exist; a static user names the archive instead.
  libs=
  for w in $(pc --static --libs clearn); do
    [ "$w" = -lclearn ] && w=$libdir/libclearn.a
    libs="$libs $w"
  done
  "$CC" $wflags "$src" -o pc_static $(pc --static --cflags clearn) $libs -lm ||
    die "cannot build against libclearn.a with pkg-config --static clearn"
  needs_libclearn pc_static && fail "pc_static links libclearn.so"
  ./pc_static pc_static.h5 || fail "pc_static"

  step "installed headers compile on their own"
  for h in "$incdir"/clearn/*.h; do
    name=${h##*/}
    flags=$(pc --cflags clearn)
    if [ "$name" = clearn_mpi.h ]; then
      [ $mpi = 1 ] || continue
      flags=$(pc --cflags clearn-mpi)
    fi
    printf '#include <clearn/%s>\nint main(void) { return 0; }\n' "$name" \
      > hdr.c
    "$CC" -std=c11 -Wall -Wextra -Werror -pedantic $flags -c hdr.c -o hdr.o ||
      fail "clearn/$name does not compile on its own"
  done

  if [ $mpi = 1 ]; then
    v=$(pc --modversion clearn-mpi) || die "pkg-config cannot read clearn-mpi.pc"
    [ "$v" = "$CLEARN_VERSION" ] ||
      fail "clearn-mpi.pc version $v != $CLEARN_VERSION"
    echo "mpi cflags: $(pc --cflags clearn-mpi)"
    echo "mpi libs:   $(pc --libs clearn-mpi)"
    msrc=$CLEARN_OUTSIDE_DIR/outside_mpi.c
    LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
    # clearn-mpi.pc Requires the MPI implementation's own .pc, so a plain
    # C compiler gets the MPI flags from pkg-config alone.
    step "mpi: cc \$(pkg-config --cflags --libs clearn-mpi)"
    if "$CC" $wflags "$msrc" -o pc_mpi_cc $(pc --cflags --libs clearn-mpi) -lm
    then
      run_mpi ./pc_mpi_cc
    else
      fail "cannot build with cc and pkg-config clearn-mpi"
    fi
    step "mpi: mpicc \$(pkg-config --cflags --libs clearn-mpi)"
    if [ -z "$MPICC" ]; then
      fail "MPI layer built but no mpicc known"
    elif "$MPICC" $wflags "$msrc" -o pc_mpi $(pc --cflags --libs clearn-mpi) -lm
    then
      run_mpi ./pc_mpi
    else
      fail "cannot build with mpicc and pkg-config clearn-mpi"
    fi
  fi
fi

cd /
if [ "$failures" -ne 0 ]; then
  echo "install_test.sh $mode: $failures failure(s)"
  exit 1
fi
echo "install_test.sh $mode: ok"
