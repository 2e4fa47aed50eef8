# scikit-learn parity of linear_regression and ridge (tests/test_linear_sklearn.c).
# The reference values are computed at test time by tests/sklearn_ref.py
# under CLEARN_TEST_PYTHON; without it (or without scikit-learn) the test
# exits 77 and ctest reports it skipped.
clearn_add_test(test_linear_sklearn test_linear_sklearn.c
  ARGS ${CMAKE_CURRENT_SOURCE_DIR}/sklearn_ref.py "${CLEARN_TEST_PYTHON}")
set_tests_properties(test_linear_sklearn PROPERTIES LABELS "sklearn")
