# Driver of the consumer tests, run as `cmake -D...=... -P run.cmake` by ctest: configures and
# builds the consumer project CONSUMER in WORK_DIR (MODE find_package: against PREFIX), then runs
# its test programs with TMPDIR inside WORK_DIR and checks that they used it and left nothing.
cmake_minimum_required(VERSION 3.21)

include(${CMAKE_CURRENT_LIST_DIR}/../../run_command.cmake)

file(REMOVE_RECURSE ${WORK_DIR})
set(configure ${CMAKE_COMMAND} -S ${CONSUMER} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}" -DMODE=${MODE}
    -DWANT_GTEST=${WANT_GTEST} -DWANT_CATCH2=${WANT_CATCH2})
if(MODE STREQUAL "find_package")
  list(APPEND configure -DCMAKE_PREFIX_PATH=${PREFIX})
else()
  list(APPEND configure -DTEMPFILE_SOURCE_DIR=${SOURCE_DIR})
endif()
run(${configure})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build --parallel 2)

# Set only now: the compiler, too, reads TMPDIR.
set(tmp ${WORK_DIR}/tmp)
file(MAKE_DIRECTORY ${tmp})
set(ENV{TMPDIR} ${tmp})
unset(ENV{TEMPFILE_TEST_KEEP})
set(programs)
if(WANT_GTEST)
  list(APPEND programs gtest_consumer)
endif()
if(WANT_CATCH2)
  list(APPEND programs catch2_consumer)
endif()
foreach(program IN LISTS programs)
  run(${WORK_DIR}/build/${program})
endforeach()

# The tests passed: their directories and bases are gone, the per-user directory stays.
file(GLOB_RECURSE left LIST_DIRECTORIES true RELATIVE ${tmp} ${tmp}/*)
if(NOT left MATCHES "^tempfile-tests-[^/;]+$")
  message(FATAL_ERROR "expected only the per-user directory in ${tmp}, found: ${left}")
endif()
message(STATUS "${programs} used tmp_path() in ${tmp}/${left} and left nothing behind")
