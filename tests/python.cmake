# The Python binding's pytest suite (python/tests), run by Debian's python3
# (CLEARN_TEST_PYTHON) on the package in python/ with this build's
# libclearn.so: no install step.  Split in groups so ctest runs them in
# parallel.  Missing Python packages: skipped with the reason (exit 77).
#
# In the sanitizer build the same tests run against the ASan/UBSan
# libclearn.so: an instrumented library can only be loaded into the
# uninstrumented python3 with the sanitizer runtimes preloaded
# (LD_PRELOAD, found through the compiler), and leak detection is off
# there -- CPython and NumPy keep their memory until exit, and clearn's
# own leaks are LeakSanitizer's job in the C tests.  Every other check
# (invalid accesses, undefined behaviour) stays on and aborts the test.
set(clearn_py_env "OPENBLAS_NUM_THREADS=1;OMP_NUM_THREADS=1")
set(clearn_py_ok TRUE)
if(CLEARN_SANITIZE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE clearn_libasan OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libubsan.so
                  OUTPUT_VARIABLE clearn_libubsan OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(IS_ABSOLUTE "${clearn_libasan}" AND EXISTS "${clearn_libasan}" AND
     IS_ABSOLUTE "${clearn_libubsan}" AND EXISTS "${clearn_libubsan}")
    get_filename_component(clearn_libasan "${clearn_libasan}" REALPATH)
    get_filename_component(clearn_libubsan "${clearn_libubsan}" REALPATH)
    list(APPEND clearn_py_env
         "LD_PRELOAD=${clearn_libasan}:${clearn_libubsan}"
         "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
         "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  else()
    message(STATUS "clearn: no libasan/libubsan to preload; the Python "
                   "tests are left out of the sanitizer build")
    set(clearn_py_ok FALSE)
  endif()
endif()
if(clearn_py_ok)
  set(clearn_py_mpi_lib "")
  if(TARGET clearn_mpi)
    set(clearn_py_mpi_lib $<TARGET_FILE:clearn_mpi>)
  endif()
  set(clearn_py_run ${CMAKE_CURRENT_SOURCE_DIR}/run_pytest.sh
      ${CLEARN_TEST_PYTHON} $<TARGET_FILE:clearn> "${clearn_py_mpi_lib}"
      ${PROJECT_SOURCE_DIR}/python)
  set(clearn_py_dir ${PROJECT_SOURCE_DIR}/python/tests)
  set(clearn_py_groups linear als notebook)
  if(TARGET clearn_mpi)
    list(APPEND clearn_py_groups mpi)  # mpirun -np 2 of mpi_comm_check.py
  endif()
  foreach(group ${clearn_py_groups})
    add_test(NAME python_${group}
             COMMAND ${clearn_py_run} ${clearn_py_dir}/test_${group}.py)
    set_tests_properties(python_${group} PROPERTIES
      SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "python"
      ENVIRONMENT "${clearn_py_env}")
  endforeach()
  if(TARGET clearn_mpi)
    set_tests_properties(python_mpi PROPERTIES PROCESSORS 2)
  endif()
endif()

# The offline install documented in python/README.md, into a venv.
if(NOT CLEARN_SANITIZE)
  add_test(NAME python_install
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_python_install.sh
                   ${CLEARN_TEST_PYTHON} $<TARGET_FILE_DIR:clearn>
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/python_install)
  set_tests_properties(python_install PROPERTIES
    SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "python")
endif()
