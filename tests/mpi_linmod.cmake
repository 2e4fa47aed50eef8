# logistic_regression, lasso and elastic_net fitted over MPI ranks against the serial fit, under
# mpiexec with 1, 2 and 3 ranks (tests/test_mpi_linmod.c).  Linked like
# test_mpi_fit (tests/mpi.cmake): public API, shared core only.
if(TARGET clearn_mpi)
  add_executable(test_mpi_linmod test_mpi_linmod.c)
  target_include_directories(test_mpi_linmod PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(test_mpi_linmod PRIVATE clearn_mpi MPI::MPI_C m)
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version
                  OUTPUT_VARIABLE clearn_lr_mpiexec_version ERROR_QUIET)
  set(clearn_lr_oversubscribe "")
  if(clearn_lr_mpiexec_version MATCHES "Open MPI|OpenRTE")
    set(clearn_lr_oversubscribe --oversubscribe)
  endif()
  foreach(np 1 2 3)
    add_test(NAME mpi_linmod_np${np}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np}
                     ${clearn_lr_oversubscribe} ${MPIEXEC_PREFLAGS}
                     $<TARGET_FILE:test_mpi_linmod> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(mpi_linmod_np${np} PROPERTIES
      TIMEOUT 120
      PROCESSORS ${np}
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OPENBLAS_NUM_THREADS=1;OMP_NUM_THREADS=1")
  endforeach()
endif()
