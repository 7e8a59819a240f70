# SPDX-License-Identifier: LGPL-2.1-or-later
# The memcached protocol layer: a pure parser and reply writers that depend
# on libc and include/splitcache.h only, so they build, test and fuzz alone.
# Included from service/CMakeLists.txt (and from tests/unit/proto when the
# service folder is not built).
if(TARGET spc_proto)
  return()
endif()

set(SPC_PROTO_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/proto.c
  ${CMAKE_CURRENT_LIST_DIR}/proto_meta.c
  ${CMAKE_CURRENT_LIST_DIR}/proto_reply.c
  ${CMAKE_CURRENT_LIST_DIR}/proto_tok.c)

add_library(spc_proto STATIC ${SPC_PROTO_SOURCES})
target_include_directories(spc_proto PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include)

# libFuzzer target over the parser and the reply writers (clang only).
option(SPC_FUZZ "Build the libFuzzer target spc_fuzz_proto (needs clang)" OFF)
if(SPC_FUZZ)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(spc_fuzz_proto ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_proto.c ${SPC_PROTO_SOURCES})
    target_include_directories(spc_fuzz_proto PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include)
    target_compile_options(spc_fuzz_proto PRIVATE -fsanitize=fuzzer,address,undefined -g)
    target_link_options(spc_fuzz_proto PRIVATE -fsanitize=fuzzer,address,undefined)
    set_target_properties(spc_fuzz_proto PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  else()
    message(WARNING "SPC_FUZZ needs clang (CMAKE_C_COMPILER=clang); spc_fuzz_proto not built")
  endif()
endif()
