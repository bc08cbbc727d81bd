# Build-time version stamp (run by the sabre_git_stamp target at every build, not at
# configure time): writes OUT with build::git_commit() returning the commit of the sources
# in SOURCE_DIR ("<12 hex digits>", "-dirty" appended when tracked files differ from it,
# "unknown" outside a git work tree). OUT is rewritten only when its text changes, so an
# unchanged commit rebuilds nothing and a new one recompiles this one file and relinks.
#   cmake -DSOURCE_DIR=... -DOUT=... -P core/git_stamp.cmake
if(NOT SOURCE_DIR OR NOT OUT)
  message(FATAL_ERROR "git_stamp.cmake: needs -DSOURCE_DIR=... -DOUT=...")
endif()
set(commit "unknown")
find_program(GIT_EXECUTABLE git)
if(GIT_EXECUTABLE)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE sha OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE rc)
  if(rc EQUAL 0 AND sha)
    set(commit "${sha}")
    # Refresh the index's stat data first, so that a file touched but unchanged does not
    # read as a change; then any difference of tracked files from HEAD makes it dirty.
    execute_process(COMMAND ${GIT_EXECUTABLE} update-index -q --refresh
                    WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_QUIET ERROR_QUIET)
    execute_process(COMMAND ${GIT_EXECUTABLE} diff-index --quiet HEAD --
                    WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE dirty ERROR_QUIET)
    if(NOT dirty EQUAL 0)
      string(APPEND commit "-dirty")
    endif()
  endif()
endif()
set(text "// Generated at build time by core/git_stamp.cmake; do not edit.
#include \"core/build_info.hh\"

const char* sabre::build::git_commit() { return \"${commit}\"; }
")
include("${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake")
write_if_changed("${OUT}" "${text}")
