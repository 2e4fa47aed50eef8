# ALS recommender (tests/test_als.c).  The NumPy reference of the same
# updates is computed at test time by tests/als_ref.py under
# CLEARN_TEST_PYTHON; without it (or without numpy) everything else still
# runs and the test exits 77, which ctest reports as skipped.
set(als_test_args ${CMAKE_CURRENT_SOURCE_DIR}/als_ref.py "${CLEARN_TEST_PYTHON}")
clearn_add_test(test_als test_als.c ARGS ${als_test_args})
set_tests_properties(test_als PROPERTIES LABELS "als")

# The same tests on the row kernels of CPUs without AVX-512 (CG's AVX2
# passes, BLAS/LAPACK for the rest): CLEARN_NO_AVX512 makes this machine
# take them too; and with CLEARN_NO_AVX2 as well, on the BLAS/LAPACK path
# alone, which any other CPU runs.
add_test(NAME test_als_portable COMMAND test_als ${als_test_args})
set_tests_properties(test_als_portable PROPERTIES LABELS "als"
  SKIP_RETURN_CODE 77 ENVIRONMENT "CLEARN_NO_AVX512=1")
add_test(NAME test_als_generic COMMAND test_als ${als_test_args})
set_tests_properties(test_als_generic PROPERTIES LABELS "als"
  SKIP_RETURN_CODE 77 ENVIRONMENT "CLEARN_NO_AVX512=1;CLEARN_NO_AVX2=1")
