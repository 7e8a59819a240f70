/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/cache.h: the cache handle, its two pools' runtime state, the
 * per-thread statistics slots and the inlined read path.
 *
 * Private to core/ (and its tests). The public contract is in
 * include/splitcache.h, the full picture of who touches what in
 * docs/concurrency.md.
 */
#ifndef SPC_CORE_CACHE_H
#define SPC_CORE_CACHE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "core/index.h"

#include "base/base.h"
#include "core/handle.h"
#include "core/key.h"
#include "core/item.h"
#include "core/kv.h"
#include "core/kv_index.h"
#include "core/maint.h"
#include "core/clock.h"
#include "core/debug.h"
#include "core/entry.h"
#include "core/forced.h"
#include "core/policy.h"
#include "core/reclaim.h"
#include "core/room.h"
#include "core/stats.h"
#include "core/view_maint.h"
#include "core/wait.h"
#include "pools/pools.h"
#include "splitcache.h"
#include "sync/rcu.h"
#include "sync/ring.h"
#include "sync/thread.h"

/* Tests only (internal, not exported): called on the maintainer for every
 * entry evicted to make room, after it was unpublished. Set right after
 * spc_open, before any write. */
void spc_cache_set_evict_hook(struct spc_cache *c, spc_evict_hook_fn *fn, void *arg);

/* Tests and tools (internal): waits up to ms until both maintainers have
 * admitted every record, reclaimed every dead entry and every batch's
 * grace period ended (backlog 0), and both maintainers sleep (what their
 * steps wrote is then visible to the caller). Returns SPC_OK or SPC_ETIMEDOUT.
 * Context: not in read section; no concurrent writers. */
int spc_cache_quiesce(struct spc_cache *c, unsigned ms);



#endif /* SPC_CORE_CACHE_H */
