# scikit-learn parity and error cases of logistic_regression
# (tests/test_logistic_sklearn.c, references by tests/logistic_ref.py at
# test time; skipped, exit 77, without scikit-learn).
clearn_add_test(test_logistic_sklearn test_logistic_sklearn.c
  ARGS ${CMAKE_CURRENT_SOURCE_DIR}/logistic_ref.py "${CLEARN_TEST_PYTHON}")
set_tests_properties(test_logistic_sklearn PROPERTIES LABELS "sklearn")
