# Unit tests for agent/ (rf_agent): one Check binary per module.
foreach(mod proto proto_trust state boot bootguard journal wire config memtrim)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/unit/check_agent_${mod}.c)
  set(extra "")
  if(mod MATCHES "^proto")
    # The protocol scenarios share one scripted world.
    set(extra ${CMAKE_CURRENT_SOURCE_DIR}/unit/proto_harness.c)
  endif()
  if(EXISTS ${src})
    rf_unit_test(agent_${mod} SOURCES ${src} ${extra} LIBS rf_agent)
  endif()
endforeach()
