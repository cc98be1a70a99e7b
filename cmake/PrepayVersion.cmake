# The version every executable prints with --version: the project version and the git commit
# of the source tree. The header is rewritten at every build (only when its content changes, so
# nothing recompiles needlessly), so the commit is never a stale one from configure time.
find_package(Git QUIET)
set(PREPAY_VERSION_HEADER ${CMAKE_BINARY_DIR}/generated/prepay/version.h)
add_custom_target(prepay_version
    COMMAND ${CMAKE_COMMAND}
        -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DGIT=${GIT_EXECUTABLE} -DVERSION=${PROJECT_VERSION}
        -DOUTPUT=${PREPAY_VERSION_HEADER} -P ${CMAKE_CURRENT_LIST_DIR}/WriteVersion.cmake
    BYPRODUCTS ${PREPAY_VERSION_HEADER}
    COMMENT "Stamping the version header")
