# ALS with solver=gibbs (tests/test_als_gibbs.c).  The NumPy reference of
# its pieces is computed at test time by tests/als_gibbs_ref.py under
# CLEARN_TEST_PYTHON; without it (or numpy) the rest still runs and the
# test exits 77 (skipped).
set(gibbs_test_args ${CMAKE_CURRENT_SOURCE_DIR}/als_gibbs_ref.py
    "${CLEARN_TEST_PYTHON}")
clearn_add_test(test_als_gibbs test_als_gibbs.c ARGS ${gibbs_test_args})
set_tests_properties(test_als_gibbs PROPERTIES LABELS "als")

# Again on the portable row sums and solves (CPUs without AVX-512).
add_test(NAME test_als_gibbs_portable COMMAND test_als_gibbs ${gibbs_test_args})
set_tests_properties(test_als_gibbs_portable PROPERTIES LABELS "als"
  SKIP_RETURN_CODE 77 ENVIRONMENT "CLEARN_NO_AVX512=1")
