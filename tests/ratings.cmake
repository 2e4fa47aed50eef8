# Ratings data: container, text loaders, HDF5 files, splits, generator
# (docs/ratings-format.md).  Reads the real MovieLens files when present
# (CLEARN_MOVIELENS_DIR, default /work/shared/data/movielens) and says
# SKIPPED for each one that is absent.
clearn_add_test(test_ratings test_ratings.c)
set_tests_properties(test_ratings PROPERTIES TIMEOUT 600)
