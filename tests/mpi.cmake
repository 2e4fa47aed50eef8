# Tests of the MPI layer, run under mpiexec with 1, 2 and 4 ranks.
#
# Linked against clearn_mpi, which links the shared libclearn.so, and not
# through clearn_add_test: adding clearn_static would put a second copy of
# the core -- and of the per-thread error slot -- into the process, so
# errors raised inside the MPI layer would be recorded in one copy and read
# from the other.  The test uses only the public API.
if(TARGET clearn_mpi)
  add_executable(test_mpi_fit test_mpi_fit.c)
  target_include_directories(test_mpi_fit PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(test_mpi_fit PRIVATE clearn_mpi MPI::MPI_C m)

  # --oversubscribe lets 4 ranks run on fewer cores; it is an Open MPI flag.
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version
                  OUTPUT_VARIABLE clearn_mpiexec_version ERROR_QUIET)
  set(clearn_mpi_oversubscribe "")
  if(clearn_mpiexec_version MATCHES "Open MPI|OpenRTE")
    set(clearn_mpi_oversubscribe --oversubscribe)
  endif()
  foreach(np 1 2 4)
    add_test(NAME mpi_fit_np${np}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np}
                     ${clearn_mpi_oversubscribe} ${MPIEXEC_PREFLAGS}
                     $<TARGET_FILE:test_mpi_fit> ${MPIEXEC_POSTFLAGS})
    # A hang (a rank skipping a collective) fails after TIMEOUT seconds
    # instead of blocking the suite.
    set_tests_properties(mpi_fit_np${np} PROPERTIES
      TIMEOUT 120
      PROCESSORS ${np}
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OPENBLAS_NUM_THREADS=1")
  endforeach()
endif()

# Distributed ALS: bitwise equality with the serial fit for 1 to 4 ranks
# (3 gives uneven blocks and an empty share), resume, loads, errors.
if(TARGET clearn_mpi)
  add_executable(test_mpi_als test_mpi_als.c)
  target_include_directories(test_mpi_als PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(test_mpi_als PRIVATE clearn_mpi MPI::MPI_C m)
  foreach(np 1 2 3 4)
    add_test(NAME mpi_als_np${np}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np}
                     ${clearn_mpi_oversubscribe} ${MPIEXEC_PREFLAGS}
                     $<TARGET_FILE:test_mpi_als> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(mpi_als_np${np} PROPERTIES
      TIMEOUT 180
      PROCESSORS ${np}
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OPENBLAS_NUM_THREADS=1;OMP_NUM_THREADS=1")
  endforeach()
endif()
