# Unit tests for common/ (rf_common): one Check binary per module.
foreach(mod buf cjson crypto signed cohort util log)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/unit/check_common_${mod}.c)
  if(EXISTS ${src})
    rf_unit_test(common_${mod} SOURCES ${src} LIBS rf_common)
  endif()
endforeach()
