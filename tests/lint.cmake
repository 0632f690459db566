# Source hygiene, checked on every run: clang-format clean, no banned calls.
add_test(NAME lint_format
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lint/check-format ${PROJECT_SOURCE_DIR})
add_test(NAME lint_banned
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lint/check-banned ${PROJECT_SOURCE_DIR})
set_tests_properties(lint_format lint_banned PROPERTIES LABELS lint)
