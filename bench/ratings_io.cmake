# Ratings I/O benchmark: generation, text parsing and HDF5 loading at
# MovieLens-20M scale (bench/bench_ratings_io.c).  Included from
# bench/CMakeLists.txt; paths are relative to this file so it works from
# any including directory.
add_executable(bench_ratings_io ${CMAKE_CURRENT_LIST_DIR}/bench_ratings_io.c)
target_link_libraries(bench_ratings_io PRIVATE clearn_static m)
