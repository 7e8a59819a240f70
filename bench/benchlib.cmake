# SPDX-License-Identifier: LGPL-2.1-or-later
# spc_benchlib: every source of splitcache-bench except main.c, as a static
# library the bench and tests/unit/bench link. Included from bench/ and,
# when the bench is not built (sanitizer builds), from tests/unit/bench/.
if(TARGET spc_benchlib)
  return()
endif()
set(SPC_BENCH_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(spc_benchlib STATIC
  ${SPC_BENCH_DIR}/hist.c ${SPC_BENCH_DIR}/keygen.c ${SPC_BENCH_DIR}/trace.c
  ${SPC_BENCH_DIR}/lru.c ${SPC_BENCH_DIR}/opt.c ${SPC_BENCH_DIR}/classic.c ${SPC_BENCH_DIR}/lrfu.c
  ${SPC_BENCH_DIR}/tuned.c ${SPC_BENCH_DIR}/sys_peers.c ${SPC_BENCH_DIR}/sys_splitcache.c
  ${SPC_BENCH_DIR}/sys_index.c
  ${SPC_BENCH_DIR}/sys_rocksdb.c ${SPC_BENCH_DIR}/report.c ${SPC_BENCH_DIR}/runner.c
  ${SPC_BENCH_DIR}/sc_throughput.c ${SPC_BENCH_DIR}/sc_vdi.c ${SPC_BENCH_DIR}/sc_vdi_rounds.c
  ${SPC_BENCH_DIR}/sc_replay.c
  ${SPC_BENCH_DIR}/sc_memory.c)
target_include_directories(spc_benchlib PUBLIC ${SPC_BENCH_DIR} ${PROJECT_SOURCE_DIR}/include)
# index-bare reaches core/index.h, which includes base/base.h
target_include_directories(spc_benchlib PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(spc_benchlib PUBLIC _GNU_SOURCE)

pkg_check_modules(SPC_BENCH_DEPS REQUIRED IMPORTED_TARGET zlib liblzma libzstd)
target_link_libraries(spc_benchlib PUBLIC splitcache_static PkgConfig::SPC_BENCH_DEPS
  PkgConfig::URCU PkgConfig::XXHASH Threads::Threads m)

