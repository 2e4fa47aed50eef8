# Distributed ALS: np = 1, 2 (1 thread per rank) against the threaded
# single process on the same HDF5 ratings file (bench/bench_mpi_als.c,
# bench/run_mpi_als.sh).  Links the shared libraries, as the MPI tests do.
if(TARGET clearn_mpi)
  add_executable(bench_mpi_als ${CMAKE_CURRENT_LIST_DIR}/bench_mpi_als.c)
  target_link_libraries(bench_mpi_als PRIVATE clearn_mpi clearn MPI::MPI_C m)
endif()
