# Unit tests for common/ (rf_common): one Check binary per module.
foreach(mod buf cjson crypto signed cohort util log tuf tuf_meta)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/unit/check_common_${mod}.c)
  set(extra "")
  if(mod MATCHES "^tuf")
    # The TUF client's tests share their signed test metadata.
    set(extra ${CMAKE_CURRENT_SOURCE_DIR}/unit/tuf_fixture.c)
  endif()
  if(EXISTS ${src})
    rf_unit_test(common_${mod} SOURCES ${src} ${extra} LIBS rf_common)
  endif()
endforeach()
