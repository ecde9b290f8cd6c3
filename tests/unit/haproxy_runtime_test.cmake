# The unit test replays the fuzzer's seed corpus through the reply parsers.
target_compile_definitions(${name} PRIVATE MEND_HAPROXY_CORPUS_DIR="${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/haproxy")
