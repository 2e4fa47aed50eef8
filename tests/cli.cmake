if(TARGET clearn_cli)
  add_test(NAME test_cli COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh
           $<TARGET_FILE:clearn_cli>)
endif()
