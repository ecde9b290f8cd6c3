# Settings for mend's own targets when mend is the top-level project: warnings
# and sanitizers. Consumers using add_subdirectory() do not get them.

add_library(mend_warnings INTERFACE)
target_compile_options(mend_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                               -Wold-style-cast -Wcast-align -Wnull-dereference)
if(MEND_WARNINGS_AS_ERRORS)
  target_compile_options(mend_warnings INTERFACE -Werror)
endif()

if(MEND_SANITIZE)
  # -fno-sanitize-recover makes UBSan findings fail the test instead of
  # printing and going on.
  add_compile_options(-fsanitize=${MEND_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MEND_SANITIZE})
endif()
