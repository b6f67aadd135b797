# cmake -DSRC=DIR -DOUT=FILE -P version.cmake: write the build-info header (cmake/version.h.in)
# with the source tree's git commit and the build day. Run at every build; configure_file leaves
# the file untouched when nothing changed, so nothing is recompiled then.
set(VMS_COMMIT unknown)
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SRC} rev-parse --short=12 HEAD
    OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
  if(rc EQUAL 0 AND head)
    set(VMS_COMMIT ${head})
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SRC} status --porcelain --untracked-files=no
      OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(dirty)
      set(VMS_COMMIT "${head}-dirty")
    endif()
  endif()
endif()
# string(TIMESTAMP) honours SOURCE_DATE_EPOCH (reproducible builds).
string(TIMESTAMP VMS_BUILD_DATE "%Y-%m-%d" UTC)
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in ${OUT} @ONLY)
