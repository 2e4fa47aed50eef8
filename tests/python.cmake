# The Python binding's pytest suite (python/tests), run by Debian's python3
# (CLEARN_TEST_PYTHON) on the package in python/ with this build's
# libclearn.so: no install step.  Split in groups so ctest runs them in
# parallel.  Missing Python packages: skipped with the reason (exit 77).
#
# Not in the sanitizer build: an ASan-instrumented libclearn.so cannot be
# loaded into an uninstrumented python3 without preloading libasan into
# the interpreter, whose own leaks LeakSanitizer would then report.  The C
# code the binding calls is covered there by the C tests.
if(NOT CLEARN_SANITIZE)
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
      ENVIRONMENT "OPENBLAS_NUM_THREADS=1;OMP_NUM_THREADS=1")
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
