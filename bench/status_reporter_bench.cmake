# The SQLite case measures what record() costs with a history store attached.
target_link_libraries(${name} PRIVATE mend::sqlite)
