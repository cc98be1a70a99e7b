# Strict warnings and Qt's strictness switches, applied to every prepay target through
# prepay_strict(<target>). Generated code (moc, qmlcachegen) compiles with the same flags.
option(PREPAY_WERROR "Treat compiler warnings as errors" ON)

add_library(prepay_strict_flags INTERFACE)
target_compile_options(prepay_strict_flags INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wcast-align -Wimplicit-fallthrough -Wmissing-declarations
    $<$<BOOL:${PREPAY_WERROR}>:-Werror>)
target_compile_definitions(prepay_strict_flags INTERFACE
    QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_CAST_FROM_BYTEARRAY
    QT_NO_KEYWORDS QT_NO_FOREACH QT_NO_URL_CAST_FROM_STRING QT_USE_QSTRINGBUILDER
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT QT_DISABLE_DEPRECATED_BEFORE=0x060400)

function(prepay_strict target)
    target_link_libraries(${target} PRIVATE prepay_strict_flags)
endfunction()
