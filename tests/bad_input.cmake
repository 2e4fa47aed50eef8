# One check per row of docs/RELIABILITY.md (tests/test_bad_input.c).
clearn_add_test(test_bad_input test_bad_input.c)
