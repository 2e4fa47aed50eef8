# Install tests: install this build tree into a fresh temporary prefix and
# build the outside project tests/outside/ against it, through the CMake
# package (install_cmake) and through pkg-config (install_pkgconfig).  Both
# also check the installed file list and the exported symbols.  Driven by
# tests/install_test.sh; exit code 77 = skipped (tool missing).
find_program(CLEARN_PKG_CONFIG NAMES pkgconf pkg-config)
mark_as_advanced(CLEARN_PKG_CONFIG)

set(clearn_install_env
  CLEARN_BUILD_DIR=${PROJECT_BINARY_DIR}
  CLEARN_OUTSIDE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/outside
  CLEARN_VERSION=${PROJECT_VERSION}
  CLEARN_LIBDIR=${CMAKE_INSTALL_LIBDIR}
  CLEARN_INCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR}
  CLEARN_MPI=${CLEARN_MPI}
  CMAKE=${CMAKE_COMMAND}
  CTEST=${CMAKE_CTEST_COMMAND}
  CMAKE_GENERATOR=${CMAKE_GENERATOR}
  CC=${CMAKE_C_COMPILER}
  NM=${CMAKE_NM}
  READELF=${CMAKE_READELF}
  PKG_CONFIG=${CLEARN_PKG_CONFIG}
  MPICC=${MPI_C_COMPILER}
  MPIEXEC=${MPIEXEC_EXECUTABLE})

foreach(mode cmake pkgconfig)
  add_test(NAME install_${mode}
           COMMAND ${CMAKE_COMMAND} -E env ${clearn_install_env}
                   CLEARN_CONFIG=$<CONFIG>
                   sh ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh ${mode})
  # Each mode installs into its own temporary prefix, so they may run in
  # parallel; the outside build is slow-ish, hence the label for -LE.
  set_tests_properties(install_${mode} PROPERTIES SKIP_RETURN_CODE 77
                       TIMEOUT 600 LABELS install)
endforeach()
