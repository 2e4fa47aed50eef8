if(TARGET clearn_cli)
  add_test(NAME test_cli COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh
           $<TARGET_FILE:clearn_cli>)
endif()

# The command line under mpirun (distributed training, checkpoints, faults).
if(TARGET clearn_cli AND TARGET clearn_mpi)
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version
                  OUTPUT_VARIABLE clearn_cli_mpiexec_version ERROR_QUIET)
  set(clearn_cli_over "")
  if(clearn_cli_mpiexec_version MATCHES "Open MPI|OpenRTE")
    set(clearn_cli_over --oversubscribe)
  endif()
  add_test(NAME test_cli_mpi
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_mpi.sh
                   $<TARGET_FILE:clearn_cli> ${MPIEXEC_EXECUTABLE}
                   ${clearn_cli_over})
  set_tests_properties(test_cli_mpi PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
                       PROCESSORS 2)
endif()
