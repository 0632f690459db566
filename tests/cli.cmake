# Unit tests for cli/ (ringfence): the pure parts — arguments, option values,
# URLs, request building, tables and rendering — compiled from the CLI's own
# sources (all but main.c), so the tests exercise exactly what ships.
file(GLOB RF_CLI_TEST_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/cli/*.c)
list(REMOVE_ITEM RF_CLI_TEST_SOURCES ${PROJECT_SOURCE_DIR}/cli/main.c)
foreach(t check_cli check_cli_output check_cli_spec check_cli_steps check_cli_render)
  rf_unit_test(${t} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/${t}.c ${RF_CLI_TEST_SOURCES}
               LIBS rf_common PkgConfig::CURL)
  target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/cli)
endforeach()
