# Strict warnings and Qt's strictness switches for every prepay target: prepay_strict(<target>)
# after the target's sources are added. The warnings apply to our own .cpp files only: code
# that moc, qmlcachegen and qmltyperegistrar generate into the build tree does not compile
# cleanly under -Wshadow/-Wmissing-declarations, and is not ours to fix.
option(PREPAY_WERROR "Treat compiler warnings as errors" ON)

set(PREPAY_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wcast-align -Wimplicit-fallthrough -Wmissing-declarations)
if(PREPAY_WERROR)
    list(APPEND PREPAY_WARNINGS -Werror)
endif()

add_library(prepay_strict_flags INTERFACE)
target_compile_definitions(prepay_strict_flags INTERFACE
    QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_CAST_FROM_BYTEARRAY
    QT_NO_KEYWORDS QT_NO_FOREACH QT_NO_URL_CAST_FROM_STRING QT_USE_QSTRINGBUILDER
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT QT_DISABLE_DEPRECATED_BEFORE=0x060400)

function(prepay_strict target)
    target_link_libraries(${target} PRIVATE prepay_strict_flags)
    get_target_property(sources ${target} SOURCES)
    get_target_property(source_dir ${target} SOURCE_DIR)
    foreach(source IN LISTS sources)
        if(source MATCHES "\\.cpp$")
            get_filename_component(absolute ${source} ABSOLUTE BASE_DIR ${source_dir})
            cmake_path(IS_PREFIX PROJECT_BINARY_DIR ${absolute} generated)
            if(NOT generated)
                set_property(SOURCE ${absolute} APPEND PROPERTY COMPILE_OPTIONS ${PREPAY_WARNINGS})
            endif()
        endif()
    endforeach()
endfunction()
