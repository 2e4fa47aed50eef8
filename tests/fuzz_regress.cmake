# Inputs found by the fuzz targets (tests/fuzz, tools/fuzz.sh), one check
# each (tests/test_fuzz_regress.c; the raw inputs are in tests/fuzz/regress
# and seed the fuzz corpora).
clearn_add_test(test_fuzz_regress test_fuzz_regress.c)
set_tests_properties(test_fuzz_regress PROPERTIES TIMEOUT 30)
