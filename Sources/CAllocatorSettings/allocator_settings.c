// jemalloc reads its options from this global when the process starts (jemalloc(3), "TUNING"; MALLOC_CONF in
// the environment still overrides it). Pages freed for good are returned to the kernel within 50 ms
// (jemalloc's default keeps them 10 s): a hostile capture that makes flows grow and be evicted again and
// again otherwise piled up freed pages, and peak memory grew with the file (unfinished certificates:
// 188, 213, 276 MB at 2,000, 4,000, 8,000 flows against 174, 188, 202 MB with this), while on honest
// traffic the cost is within noise (docs/performance.md, "Session 12").
#include "allocator_settings.h"

const char *malloc_conf = "dirty_decay_ms:50,muzzy_decay_ms:0";
