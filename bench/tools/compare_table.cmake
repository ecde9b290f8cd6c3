# Runs the table tool on INPUT and fails unless its output equals EXPECTED.
# Usage: cmake -DTOOL=... -DINPUT=... -DEXPECTED=... -P compare_table.cmake
execute_process(COMMAND ${TOOL} ${INPUT} OUTPUT_VARIABLE actual ERROR_VARIABLE errors RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${TOOL} ${INPUT} exited with ${status}:\n${errors}")
endif()
file(READ ${EXPECTED} expected)
if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "the table differs from ${EXPECTED}\n--- expected\n${expected}\n--- actual\n${actual}")
endif()
