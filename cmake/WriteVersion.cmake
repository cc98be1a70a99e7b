# Script mode (cmake -P): writes OUTPUT from version.h.in with VERSION and the commit of
# SOURCE_DIR, leaving the file alone when nothing changed.
set(PREPAY_GIT_COMMIT "unknown")
if(GIT AND EXISTS ${SOURCE_DIR}/.git)
    execute_process(COMMAND ${GIT} rev-parse --short=10 HEAD
        WORKING_DIRECTORY ${SOURCE_DIR}
        OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
    if(rc EQUAL 0 AND commit)
        set(PREPAY_GIT_COMMIT ${commit})
    endif()
endif()
set(PROJECT_VERSION ${VERSION})
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in ${OUTPUT} @ONLY)
