# Runs the MCP status server on the messages in REQUESTS and checks each
# response with string(JSON). Invoked by ctest as
#   cmake -DSERVER=<server> -DREQUESTS=<file> -P run_session.cmake
cmake_minimum_required(VERSION 3.20)

execute_process(COMMAND ${SERVER} --caller ctest --role MCP_Admin
                INPUT_FILE ${REQUESTS}
                OUTPUT_VARIABLE output
                ERROR_VARIABLE log
                RESULT_VARIABLE exit_code
                TIMEOUT 60)
message(STATUS "server log:\n${log}")
if(NOT exit_code EQUAL 0)
  message(FATAL_ERROR "the server exited with ${exit_code}")
endif()

# Splits the output into response_0, response_1, ... by hand, because a CMake
# list would also split at every ';' inside the JSON.
set(count 0)
set(rest "${output}")
while(NOT rest STREQUAL "")
  string(FIND "${rest}" "\n" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "the last response does not end with a newline:\n${rest}")
  endif()
  string(SUBSTRING "${rest}" 0 ${end} response_${count})
  math(EXPR start "${end} + 1")
  string(SUBSTRING "${rest}" ${start} -1 rest)
  math(EXPR count "${count} + 1")
endwhile()
if(NOT count EQUAL 7)
  message(FATAL_ERROR "expected 7 responses (none for the notification), got ${count}:\n${output}")
endif()

# Fails unless member PATH... of response INDEX equals EXPECTED.
function(expect index expected)
  string(JSON actual ERROR_VARIABLE error GET "${response_${index}}" ${ARGN})
  if(error OR NOT actual STREQUAL expected)
    message(FATAL_ERROR "response ${index}: expected ${ARGN} = '${expected}', got '${actual}' ${error}\n"
                        "${response_${index}}")
  endif()
endfunction()

expect(0 "2025-06-18" result protocolVersion)
expect(0 "mend-status-server" result serverInfo name)
expect(1 "ax_get_self_healing_status" result tools 0 name)
expect(2 "OFF" result isError)
expect(2 "ax_connection" result structuredContent circuit_breakers 0 name)
expect(2 "CLOSED" result structuredContent circuit_breakers 0 state)
expect(2 "2" result structuredContent circuit_breakers 0 auto_recoveries)
expect(2 "aif_pool" result structuredContent connection_pools 0 name)
expect(2 "healthy" result structuredContent connection_pools 0 status)
expect(2 "2" result structuredContent connection_pools 0 recoveries)
expect(3 "4" id)
expect(4 "-32602" error code)
expect(5 "-32601" error code)
expect(6 "-32700" error code)

string(JSON summary GET "${response_2}" result structuredContent retry_stats)
message(STATUS "retry_stats: ${summary}")
