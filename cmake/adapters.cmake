# Optional adapter targets. Each is an INTERFACE target that adds the
# dependency its headers under include/mend/adapters/ need; the core target
# mend::mend never pulls them in. MEND_ADAPTER_TARGETS lists those that exist
# so the install step exports them.
set(MEND_ADAPTER_TARGETS "")

# mend::json: include/mend/adapters/status_json.hpp renders status reports
# with nlohmann_json (Debian: nlohmann-json3-dev).
find_package(nlohmann_json 3 QUIET)
if(nlohmann_json_FOUND)
  add_library(mend_json INTERFACE)
  add_library(mend::json ALIAS mend_json)
  set_target_properties(mend_json PROPERTIES EXPORT_NAME json)
  target_link_libraries(mend_json INTERFACE mend nlohmann_json::nlohmann_json)
  list(APPEND MEND_ADAPTER_TARGETS mend_json)
else()
  message(STATUS "mend: nlohmann_json not found; mend::json and what needs it are not built")
endif()

# mend::sqlite: include/mend/adapters/sqlite_history.hpp keeps the status
# history in SQLite (Debian: libsqlite3-dev).
find_package(SQLite3 QUIET)
if(SQLite3_FOUND)
  add_library(mend_sqlite INTERFACE)
  add_library(mend::sqlite ALIAS mend_sqlite)
  set_target_properties(mend_sqlite PROPERTIES EXPORT_NAME sqlite)
  target_link_libraries(mend_sqlite INTERFACE mend SQLite::SQLite3)
  list(APPEND MEND_ADAPTER_TARGETS mend_sqlite)
else()
  message(STATUS "mend: SQLite3 not found; mend::sqlite and what needs it are not built")
endif()

# mend::http: include/mend/adapters/http_connection.hpp speaks HTTP/1.1 over
# Boost.Asio and Boost.Beast, which are header-only in the Boost that mend
# already needs (Debian: libboost-dev), so the target adds only the sockets
# library on Windows.
add_library(mend_http INTERFACE)
add_library(mend::http ALIAS mend_http)
set_target_properties(mend_http PROPERTIES EXPORT_NAME http)
target_link_libraries(mend_http INTERFACE mend)
if(WIN32)
  target_link_libraries(mend_http INTERFACE ws2_32 mswsock)
endif()
# GCC warns (-Wtsan) that ThreadSanitizer does not model the
# std::atomic_thread_fence inside Asio; the warning concerns Asio's
# internals and would fail a -Werror build of mend's own tests.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND MEND_SANITIZE MATCHES "thread")
  target_compile_options(mend_http INTERFACE $<BUILD_INTERFACE:-Wno-tsan>)
endif()
# GCC 12 at -O2 reports a false -Wnull-dereference inside Asio's scheduler
# after inlining, where the system-header exemption no longer applies.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(mend_http INTERFACE $<BUILD_INTERFACE:-Wno-null-dereference>)
endif()
list(APPEND MEND_ADAPTER_TARGETS mend_http)
