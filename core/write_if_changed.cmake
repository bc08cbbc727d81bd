# write_if_changed(PATH TEXT): writes TEXT to PATH only when PATH does not already hold it, so
# that a build-time stamp (core/git_stamp.cmake, core/transport_id.cmake) that did not change
# leaves its file's time alone and nothing that depends on it recompiles.
function(write_if_changed path text)
  set(old "")
  if(EXISTS "${path}")
    file(READ "${path}" old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE "${path}" "${text}")
  endif()
endfunction()
