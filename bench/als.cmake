# ALS benchmark: clearn's ALS on MovieLens-1M and on generated data of
# MovieLens-20M's shape against the SGEMM rate that bounds it, with the
# splits exported for the NumPy reference (bench/bench_als.c,
# bench/als_numpy.py, bench/run_als.sh).  Included from
# bench/CMakeLists.txt; paths are relative to this file so it works from
# any including directory.  It calls cblas_sgemm directly (the floor).
add_executable(bench_als ${CMAKE_CURRENT_LIST_DIR}/bench_als.c)
target_include_directories(bench_als PRIVATE ${CLEARN_CBLAS_INCLUDE_DIR})
target_link_libraries(bench_als PRIVATE clearn_static
                      ${CLEARN_OPENBLAS_LIBRARY} m)
# mode "rows" times its passes with OpenMP threads, as the library does.
find_package(OpenMP REQUIRED)
target_link_libraries(bench_als PRIVATE OpenMP::OpenMP_C)
