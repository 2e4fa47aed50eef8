# lasso, elastic_net (and their path), standard_scaler and the metrics
# against scikit-learn (tests/test_enet_sklearn.c, references computed at
# test time by tests/enet_ref.py; skipped, exit 77, without scikit-learn).
clearn_add_test(test_enet_sklearn test_enet_sklearn.c
  ARGS ${CMAKE_CURRENT_SOURCE_DIR}/enet_ref.py "${CLEARN_TEST_PYTHON}")
set_tests_properties(test_enet_sklearn PROPERTIES LABELS "sklearn")
