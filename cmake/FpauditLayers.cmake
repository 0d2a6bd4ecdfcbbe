# The library's layers (lib/CMakeLists.txt): one static library per lib/ folder, whose declared
# dependencies are the only layers it can reach.
#
# fpaudit_layer(name SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#   builds fpaudit_<name> from lib/<name>. Its include root is a folder of the build tree that
#   holds one entry, a link named <name> to lib/<name>; sources include "<folder>/<file>.h", so a
#   target finds the headers of its own folder and of the layers it links (their roots come with
#   them as PUBLIC include directories) and no others: an #include against an arrow is a compile
#   error, header-only code included.
#
# fpaudit_layer_checks()
#   the symbol half: for every layer, a shared object made of the whole layer archive, linked
#   against its declared dependencies only, with --no-undefined. A static library on its own
#   links anything (the executables link every layer), so without this a call against an arrow
#   would go unnoticed; with it, it is a link error of target fpaudit_layer_checks (in ALL).
function(fpaudit_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target fpaudit_${name})
  add_library(${target} STATIC ${L_SOURCES})
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/${name} ${root}/${name} SYMBOLIC)
  target_include_directories(${target} PUBLIC ${root})
  target_link_libraries(${target} PUBLIC ${L_DEPS} PRIVATE ${L_PRIVATE_DEPS})
  fpaudit_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY FPAUDIT_LAYERS ${name})
endfunction()

function(fpaudit_layer_checks)
  get_property(layers GLOBAL PROPERTY FPAUDIT_LAYERS)
  add_custom_target(fpaudit_layer_checks ALL)
  foreach(name ${layers})
    set(check fpaudit_${name}_link_check)
    add_library(${check} SHARED EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/cmake/layer_link_check.cpp)
    target_link_libraries(${check} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,fpaudit_${name}>")
    target_link_options(${check} PRIVATE -Wl,--no-undefined)
    set_target_properties(${check} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/layers/checks)
    add_dependencies(fpaudit_layer_checks ${check})
  endforeach()
endfunction()
