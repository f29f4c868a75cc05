# Driver of the packaging tests, run as `cmake -D...=... -P run.cmake` by ctest.
#
# STEP=install     installs the build BUILD_DIR (config CONFIG) into PREFIX and checks the tree.
# STEP=consumer    configures, builds and runs the consumer project CONSUMER in WORK_DIR.
# STEP=pkg-config  compiles consumer.cpp with `pkg-config --cflags --libs tempfile` against PREFIX.
#
# Every command is echoed so a failure shows exactly what to run by hand.
cmake_minimum_required(VERSION 3.21)

include(${CMAKE_CURRENT_LIST_DIR}/../run_command.cmake)

# The compiler flags of the main build go to the consumers too, so that a sanitizer build of
# the library links with consumers built the same way.
separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
separate_arguments(linker_flags UNIX_COMMAND "${EXE_LINKER_FLAGS}")

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --config ${CONFIG} --prefix ${PREFIX})
  set(expected
      include/tempfile/tempfile.hpp
      include/tempfile/version.hpp
      ${LIBDIR}/cmake/tempfile/tempfile-config.cmake
      ${LIBDIR}/cmake/tempfile/tempfile-config-version.cmake
      ${LIBDIR}/cmake/tempfile/tempfile-targets.cmake
      ${LIBDIR}/pkgconfig/tempfile.pc)
  foreach(file IN LISTS expected)
    if(NOT EXISTS ${PREFIX}/${file})
      message(FATAL_ERROR "not installed: ${file}")
    endif()
  endforeach()
  file(GLOB libraries ${PREFIX}/${LIBDIR}/libtempfile.*)
  if(NOT libraries)
    message(FATAL_ERROR "no libtempfile in ${PREFIX}/${LIBDIR}")
  endif()
  # Internal headers (src/) and the test build of the library stay out of the install.
  file(GLOB_RECURSE leaked RELATIVE ${PREFIX} ${PREFIX}/*platform* ${PREFIX}/*testing*
       ${PREFIX}/*fault*)
  if(leaked)
    message(FATAL_ERROR "internal files installed: ${leaked}")
  endif()
  message(STATUS "installed into ${PREFIX}")

elseif(STEP STREQUAL "consumer")
  file(REMOVE_RECURSE ${WORK_DIR})
  run(${CMAKE_COMMAND} -S ${CONSUMER} -B ${WORK_DIR} -G ${GENERATOR}
      -DCMAKE_CXX_COMPILER=${CXX}
      "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}"
      "-DCMAKE_SHARED_LINKER_FLAGS=${SHARED_LINKER_FLAGS}"
      -DCMAKE_PREFIX_PATH=${PREFIX}
      -DTEMPFILE_SOURCE_DIR=${SOURCE_DIR}
      -DTEMPFILE_EXPECTED_VERSION=${VERSION}
      -DBUILD_SHARED_LIBS=${SHARED})
  run(${CMAKE_COMMAND} --build ${WORK_DIR} --parallel 2)
  foreach(candidate ${WORK_DIR}/consumer ${WORK_DIR}/Debug/consumer)
    if(EXISTS ${candidate})
      run(${candidate})
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "the consumer was built but its executable is not in ${WORK_DIR}")

elseif(STEP STREQUAL "pkg-config")
  find_program(PKG_CONFIG NAMES pkg-config pkgconf)
  if(NOT PKG_CONFIG)
    # Matched by the test's SKIP_REGULAR_EXPRESSION.
    message("SKIP: pkg-config is not installed (scripts/test installs it); not checking tempfile.pc")
    return()
  endif()
  file(REMOVE_RECURSE ${WORK_DIR})
  file(MAKE_DIRECTORY ${WORK_DIR})
  set(ENV{PKG_CONFIG_PATH} ${PREFIX}/${LIBDIR}/pkgconfig)
  # The .pc file finds its prefix from where it lies (${pcfiledir}): the test installed it
  # somewhere else than CMAKE_INSTALL_PREFIX, so this also checks that it is relocatable.
  set(pkg ${PKG_CONFIG})
  execute_process(COMMAND ${pkg} --modversion tempfile OUTPUT_VARIABLE found_version
                  RESULT_VARIABLE status OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT status EQUAL 0 OR NOT found_version STREQUAL VERSION)
    message(FATAL_ERROR "pkg-config --modversion tempfile: '${found_version}', expected ${VERSION}")
  endif()
  execute_process(COMMAND ${pkg} --cflags --libs tempfile OUTPUT_VARIABLE flags
                  RESULT_VARIABLE status OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs tempfile failed")
  endif()
  message(STATUS "pkg-config --cflags --libs tempfile: ${flags}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CXX} ${cxx_flags} "-DTEMPFILE_EXPECTED_VERSION=\"${VERSION}\""
      ${SOURCE_DIR}/tests/packaging/consumer.cpp -o ${WORK_DIR}/consumer ${flags} ${linker_flags})
  # -L gives no run-time path: a shared libtempfile is found through LD_LIBRARY_PATH.
  set(ENV{LD_LIBRARY_PATH} ${PREFIX}/${LIBDIR})
  run(${WORK_DIR}/consumer)

else()
  message(FATAL_ERROR "unknown STEP '${STEP}'")
endif()
