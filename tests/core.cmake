find_package(Threads REQUIRED)
clearn_add_test(test_core test_core.c LIBS Threads::Threads)
clearn_add_test(test_params test_params.c)
clearn_add_test(test_estimator test_estimator.c)
