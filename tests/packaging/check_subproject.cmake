# Checks, at configure time, what tempfile brings into a project that includes it as a
# subproject (add_subdirectory or FetchContent): the library target and nothing else.

# Every buildsystem target defined in `dir` and the directories below it.
function(tempfile_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    tempfile_collect_targets(${sub} more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(tempfile_check_subproject source_dir)
  if(NOT TARGET tempfile::tempfile)
    message(FATAL_ERROR "no tempfile::tempfile target")
  endif()
  # The project's own tests, tools, examples and benchmarks stay out of a consumer's build.
  foreach(option TEMPFILE_BUILD_TESTS TEMPFILE_BUILD_EXAMPLES TEMPFILE_BUILD_TOOLS
                 TEMPFILE_BUILD_BENCH)
    if(${option})
      message(FATAL_ERROR "${option} is ON in a subproject build")
    endif()
  endforeach()
  foreach(target tempfile_testing smoke_test tour tempfile_cli tempfile_cli_core)
    if(TARGET ${target})
      message(FATAL_ERROR "the subproject created its internal target ${target}")
    endif()
  endforeach()
  tempfile_collect_targets(${source_dir} targets)
  # tmp_path() for the consumer's own tests, whenever GoogleTest or Catch2 2.x is found.
  list(REMOVE_ITEM targets tempfile_gtest tempfile_catch2)
  if(NOT targets STREQUAL "tempfile")
    message(FATAL_ERROR "expected only the target tempfile from the subproject, got: ${targets}")
  endif()
  # Warning flags (and -Werror) are the project's business, not its consumers'.
  get_target_property(options tempfile INTERFACE_COMPILE_OPTIONS)
  if(options)
    message(FATAL_ERROR "tempfile exports compile options: ${options}")
  endif()
  get_target_property(type tempfile TYPE)
  if(BUILD_SHARED_LIBS AND NOT type STREQUAL "SHARED_LIBRARY")
    message(FATAL_ERROR "BUILD_SHARED_LIBS=ON but tempfile is a ${type}")
  elseif(NOT BUILD_SHARED_LIBS AND NOT type STREQUAL "STATIC_LIBRARY")
    message(FATAL_ERROR "BUILD_SHARED_LIBS is off but tempfile is a ${type}")
  endif()
  message(STATUS "tempfile as a subproject: only the ${type} target tempfile, no options exported")
endfunction()
