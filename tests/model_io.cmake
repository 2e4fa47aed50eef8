# Model persistence: save/load to HDF5, bad files, atomic save (see
# docs/model-format.md).
clearn_add_test(test_model_io test_model_io.c)
