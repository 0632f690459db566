# Unit tests for agent/ (rf_agent): one Check binary per module.
foreach(mod proto state boot wire config)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/unit/check_agent_${mod}.c)
  if(EXISTS ${src})
    rf_unit_test(agent_${mod} SOURCES ${src} LIBS rf_agent)
  endif()
endforeach()
