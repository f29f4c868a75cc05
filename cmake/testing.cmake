# tmp_path() for GoogleTest and Catch2 (tempfile/gtest.hpp, tempfile/catch2.hpp): the targets
# tempfile::gtest and tempfile::catch2.
#
# Each is defined whenever its framework is found, whether or not this project's own tests are
# built, so that consumers get it through add_subdirectory/FetchContent as well as, installed
# and exported with the library, through find_package. Both are static libraries: linking
# tmp_path() is what brings in the listener that registers itself with the framework.
# Included by the top-level CMakeLists.txt once the target `tempfile` exists.

if(NOT UNIX)
  return()  # src/testing/ has only a POSIX implementation so far
endif()

# Builds one of the two: `framework` is the imported target of the test framework, the other
# arguments are the sources beside the framework-neutral core.
function(tempfile_test_framework_library target export_name framework)
  add_library(${target} STATIC ${ARGN} ${PROJECT_SOURCE_DIR}/src/testing/session.cpp
              ${PROJECT_SOURCE_DIR}/src/testing/os_posix.cpp)
  add_library(tempfile::${export_name} ALIAS ${target})
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF POSITION_INDEPENDENT_CODE ON
                        EXPORT_NAME ${export_name})
  # The public headers come with `tempfile`; src/ is for the internal detail::remove_tree.
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC tempfile ${framework})
  tempfile_warnings(${target})
  if(TEMPFILE_INSTALL)
    # In the library's export set: find_package(tempfile) defines tempfile::gtest (or
    # tempfile::catch2) too; only a consumer that links it needs the framework's target.
    install(TARGETS ${target} EXPORT tempfile-targets
            ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  endif()
endfunction()

find_package(GTest QUIET)
if(TARGET GTest::gtest)
  tempfile_test_framework_library(tempfile_gtest gtest GTest::gtest
                                  ${PROJECT_SOURCE_DIR}/src/testing/gtest.cpp)
else()
  message(STATUS "tempfile: GoogleTest not found, no tempfile::gtest")
endif()

# Catch2 3 moved the headers and changed the listener interface; only 2.x is supported here.
find_package(Catch2 QUIET)
if(TARGET Catch2::Catch2 AND Catch2_VERSION VERSION_LESS 3)
  tempfile_test_framework_library(tempfile_catch2 catch2 Catch2::Catch2
                                  ${PROJECT_SOURCE_DIR}/src/testing/catch2.cpp)
elseif(TARGET Catch2::Catch2)
  message(STATUS "tempfile: Catch2 ${Catch2_VERSION} found, but tempfile::catch2 needs 2.x")
else()
  message(STATUS "tempfile: Catch2 2.x not found, no tempfile::catch2")
endif()
