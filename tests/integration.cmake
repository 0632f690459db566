# Integration tests: real PostgreSQL (RINGFENCE_TEST_DATABASE_URL, set by tests/run),
# the real ringfenced, real agents, the real CLI, over real HTTP.
find_program(PYTHON3 python3 REQUIRED)
file(GLOB RF_INTEGRATION_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_*.py)
foreach(t ${RF_INTEGRATION_TESTS})
  get_filename_component(n ${t} NAME_WE)
  string(REPLACE "test_" "" n ${n})
  add_test(NAME integration_${n} COMMAND ${PYTHON3} -u ${t})
  set_tests_properties(integration_${n} PROPERTIES LABELS integration TIMEOUT 300
    ENVIRONMENT "RINGFENCE_BUILD_DIR=${CMAKE_BINARY_DIR}")
endforeach()
