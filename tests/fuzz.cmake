# The libFuzzer targets of the TUF client (tests/fuzz/fuzz_tuf_*.c), built with
# clang in a build dir of their own (fuzz/ under this one) and run ~20 s each on the seed corpus; skipped (77)
# where clang or libFuzzer is missing.
add_test(NAME fuzz_tuf COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run-fuzz 20)
set_tests_properties(fuzz_tuf PROPERTIES LABELS fuzz TIMEOUT 600 SKIP_RETURN_CODE 77
                     ENVIRONMENT "RF_FUZZ_BUILD_DIR=${CMAKE_BINARY_DIR}/fuzz")
