target_link_libraries(${name} PRIVATE mend::http)
