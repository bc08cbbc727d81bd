# Build-time transport identity (run by the sabre_git_stamp target at every build, beside the
# commit stamp): writes OUT with build::transport_id() returning the SHA-256 of the sources
# that decide what a Monte Carlo run computes, so that caches of computed doses (the
# commissioning basis runs) can be kept across commits that do not touch them.
#
# Hashed: every file under core/, physics/, kernels/, beams/ and engine/, and the top-level
# CMakeLists.txt (their relative paths and contents, sorted by path), except what cannot
# change a dose: beams/machines/ (a machine file's own bytes are in each cache key), the
# verdict, comparison and picture code (engine/check/, engine/compare/, engine/viz/) and the
# commissioning fit itself (engine/commission/{commission,fit,report,mlc}.{cc,hh}: the
# stages, the least-squares arithmetic, the report, the MLC fit), which only combine
# computed doses. Anything else, new files included, is in: a change there gives a new
# identity (a cache miss), never a stale hit. OUT is rewritten only when its text changes.
#   cmake -DSOURCE_DIR=... -DOUT=... -P core/transport_id.cmake
if(NOT SOURCE_DIR OR NOT OUT)
  message(FATAL_ERROR "transport_id.cmake: needs -DSOURCE_DIR=... -DOUT=...")
endif()
set(files "")
foreach(dir core physics kernels beams engine)
  file(GLOB_RECURSE found LIST_DIRECTORIES false RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/${dir}/*")
  list(APPEND files ${found})
endforeach()
list(APPEND files CMakeLists.txt)
list(FILTER files EXCLUDE REGEX "^beams/machines/")
list(FILTER files EXCLUDE REGEX "^engine/(check|compare|viz)/")
list(FILTER files EXCLUDE REGEX "^engine/commission/(commission|fit|report|mlc)\\.(cc|hh)$")
list(FILTER files EXCLUDE REGEX "(^|/)__pycache__/|\\.pyc$")
list(SORT files)
set(manifest "")
foreach(f IN LISTS files)
  file(SHA256 "${SOURCE_DIR}/${f}" h)
  string(APPEND manifest "${f} ${h}\n")
endforeach()
string(SHA256 id "${manifest}")
set(text "// Generated at build time by core/transport_id.cmake; do not edit.
#include \"core/build_info.hh\"

const char* sabre::build::transport_id() { return \"${id}\"; }
")
include("${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake")
write_if_changed("${OUT}" "${text}")
