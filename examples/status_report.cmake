# The status report example renders JSON and keeps its history in SQLite.
target_link_libraries(${name} PRIVATE mend::json mend::sqlite)
