# Estimators to and from bytes (clearn_estimator_save_bytes / _load_bytes),
# the calls behind pickling in the Python binding.
clearn_add_test(test_serialize test_serialize.c)
