# run(<command> <args>...): runs a command from a `cmake -P` driver, echoing it first so that a
# failure shows exactly what to run by hand; fails the driver if the command fails.
function(run)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "running: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${shown}")
  endif()
endfunction()
