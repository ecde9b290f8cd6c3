# Tests the JSON-RPC handling of the MCP status server example.
target_link_libraries(${name} PRIVATE mend::json)
target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/examples/mcp_status_server)
