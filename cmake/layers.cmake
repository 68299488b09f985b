# One static library per layer of docs/ARCHITECTURE.md. Sources are every .cpp under src/<layer>/
# (recursively), so adding a file needs no CMake edit. Files named *_avx2.cpp and *_avx512.cpp get the
# instruction-set flags for that path; nothing else does.
set(SY_AVX2_FLAGS -mavx2 -mfma -mf16c)
set(SY_AVX512_FLAGS -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16)

function(sy_layer name)
  cmake_parse_arguments(L "" "" "DEPS;PUBLIC_LIBS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  if(NOT srcs)  # a layer with headers only so far
    add_library(sy_${name} INTERFACE)
    target_include_directories(sy_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(sy_${name} INTERFACE ${L_DEPS} ${L_PUBLIC_LIBS})
    return()
  endif()
  add_library(sy_${name} STATIC ${srcs})
  target_include_directories(sy_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(sy_${name} PUBLIC ${L_DEPS} ${L_PUBLIC_LIBS})
  foreach(s ${srcs})
    if(s MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${s} PROPERTIES COMPILE_OPTIONS "${SY_AVX512_FLAGS}")
    elseif(s MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${s} PROPERTIES COMPILE_OPTIONS "${SY_AVX2_FLAGS}")
    endif()
  endforeach()
endfunction()
