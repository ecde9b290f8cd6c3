# Fails the test with the message in REASON: what is missing and how to install it.
message(FATAL_ERROR "${REASON}")
