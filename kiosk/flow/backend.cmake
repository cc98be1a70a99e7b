# prepay_kiosk_backend: the Backend interface between the tenant flow and the world
# (backend.h), as a library of its own so that both sides link it — the flow and its
# controllers (kiosk/flow), and its implementations (kiosk/link, kiosk/fixture). Its one
# header declares a QObject with signals, so the library is STATIC: it holds that header's moc
# output once (an INTERFACE library would moc it in every target that lists it; a target that
# lists backend.h among its sources AND links this one has Backend's meta-object twice). Included
# from kiosk/CMakeLists.txt before the folders that use it.
if(NOT TARGET prepay_kiosk_backend)
    qt_add_library(prepay_kiosk_backend STATIC ${CMAKE_CURRENT_LIST_DIR}/backend.h)
    target_include_directories(prepay_kiosk_backend PUBLIC ${PROJECT_SOURCE_DIR}/kiosk)
    target_link_libraries(prepay_kiosk_backend PUBLIC prepay_sync_replica Qt6::Core)
    # Its metatypes reach the QML modules that link it as foreign types (qmltypes.h's
    # QML_FOREIGN(Backend)), so no module needs backend.h among its own sources.
    qt_extract_metatypes(prepay_kiosk_backend)
    prepay_strict(prepay_kiosk_backend)
endif()
