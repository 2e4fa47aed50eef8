# Allocation failure swept over every allocation of fit / save / load
# scenarios (tests/test_oom.c).  The linker's --wrap routes clearn's
# allocator calls through the test's counting wrappers.
clearn_add_test(test_oom test_oom.c LIBS Threads::Threads)
target_link_options(test_oom PRIVATE
  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign,--wrap=free)
set_tests_properties(test_oom PROPERTIES TIMEOUT 900)
