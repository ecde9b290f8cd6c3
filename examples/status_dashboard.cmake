# The dashboard example serves its page with the status server, which renders
# the JSON report with nlohmann_json.
target_link_libraries(${name} PRIVATE mend::json)
