# Saves killed with SIGKILL leave the old or the new complete file
# (tests/test_atomic_kill.c).
clearn_add_test(test_atomic_kill test_atomic_kill.c)
set_tests_properties(test_atomic_kill PROPERTIES TIMEOUT 300)
