# Replays the fuzz targets' seed corpora: the MCP session needs the json
# adapter, the HTTP response checks the http adapter.
target_link_libraries(${name} PRIVATE mend::json mend::http)
target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/examples/mcp_status_server)
target_compile_definitions(${name} PRIVATE MEND_FUZZ_CORPUS_DIR="${PROJECT_SOURCE_DIR}/tests/fuzz/corpus")
