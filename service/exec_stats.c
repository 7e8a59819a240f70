/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec_stats.c: the stats command.
 *
 * memcached's general statistics computed from the worker counters and
 * the cache's per-pool statistics, "stats settings", "stats pools" (ours:
 * both pools and the memory detection) and "stats workers".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "service/exec_stats.h"
#include "service/server.h"

#define NUM_BUF 48

static enum spc_srv_exec ok_or_close(int rc)
{
	return rc == SPC_OK ? SPC_SRV_DONE : SPC_SRV_CLOSE;
}

static int stat_u(struct spc_proto_out *out, const char *name, uint64_t v)
{
	char b[NUM_BUF];

	snprintf(b, sizeof b, "%llu", (unsigned long long)v);
	return spc_proto_reply_stat(out, name, b);
}

static int stat_s(struct spc_proto_out *out, const char *name, const char *v)
{
	return spc_proto_reply_stat(out, name, v);
}

static const char *pool_name(int pool)
{
	return pool == SPC_POOL_INDEX ? "index" : "view";
}

static int stats_general(struct spc_srv_ctx *ctx)
{
	struct spc_server *srv = ctx->srv;
	struct spc_proto_out *o = ctx->out;
	struct spc_srv_counters c;
	struct spc_stats ps;
	struct rusage ru;
	char b[NUM_BUF];
	int rc = 0;

	spc_srv_counters_sum(srv, &c);
	if (spc_stats(srv->cache, ctx->pool, &ps) != SPC_OK)
		memset(&ps, 0, sizeof ps);
	getrusage(RUSAGE_SELF, &ru);
	rc |= stat_u(o, "pid", (uint64_t)getpid());
	rc |= stat_u(o, "uptime", ctx->now - srv->started);
	rc |= stat_u(o, "time", ctx->now);
	rc |= stat_s(o, "version", SPC_SRV_VERSION);
	rc |= stat_u(o, "pointer_size", sizeof(void *) * 8);
	snprintf(b, sizeof b, "%ld.%06ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	rc |= stat_s(o, "rusage_user", b);
	snprintf(b, sizeof b, "%ld.%06ld", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	rc |= stat_s(o, "rusage_system", b);
	rc |= stat_u(o, "max_connections", srv->opt.max_conns);
	rc |= stat_u(o, "curr_connections", __atomic_load_n(&srv->curr_conns, __ATOMIC_RELAXED));
	rc |= stat_u(o, "total_connections", c.total_connections);
	rc |= stat_u(o, "rejected_connections", c.rejected_connections);
	rc |= stat_u(o, "auth_cmds", c.auth_cmds);
	rc |= stat_u(o, "auth_errors", c.auth_errors);
	rc |= stat_u(o, "cmd_get", c.cmd_get);
	rc |= stat_u(o, "cmd_set", c.cmd_set);
	rc |= stat_u(o, "cmd_flush", c.cmd_flush);
	rc |= stat_u(o, "cmd_touch", c.cmd_touch);
	rc |= stat_u(o, "get_hits", c.get_hits);
	rc |= stat_u(o, "get_misses", c.get_misses);
	rc |= stat_u(o, "get_expired", c.get_expired);
	rc |= stat_u(o, "delete_misses", c.delete_misses);
	rc |= stat_u(o, "delete_hits", c.delete_hits);
	rc |= stat_u(o, "incr_misses", c.incr_misses);
	rc |= stat_u(o, "incr_hits", c.incr_hits);
	rc |= stat_u(o, "decr_misses", c.decr_misses);
	rc |= stat_u(o, "decr_hits", c.decr_hits);
	rc |= stat_u(o, "cas_misses", c.cas_misses);
	rc |= stat_u(o, "cas_hits", c.cas_hits);
	rc |= stat_u(o, "cas_badval", c.cas_badval);
	rc |= stat_u(o, "touch_hits", c.touch_hits);
	rc |= stat_u(o, "touch_misses", c.touch_misses);
	rc |= stat_u(o, "bytes_read", c.bytes_read);
	rc |= stat_u(o, "bytes_written", c.bytes_written);
	rc |= stat_u(o, "limit_maxbytes", ps.target_bytes);
	rc |= stat_u(o, "threads", srv->nworkers);
	rc |= stat_u(o, "conns_closed_output_cap", c.conns_closed_output);
	rc |= stat_u(o, "conns_closed_idle", c.conns_closed_idle);
	rc |= stat_u(o, "recv_buffers_ran_out", c.recv_nobufs);
	rc |= stat_u(o, "recv_buffer_bytes", spc_srv_recv_buffer_bytes(srv));
	rc |= stat_u(o, "curr_items", ps.items);
	rc |= stat_u(o, "total_items", ps.inserts);
	rc |= stat_u(o, "bytes", ps.charged_bytes);
	rc |= stat_u(o, "evictions", ps.evictions);
	rc |= stat_u(o, "expirations", ps.expirations);
	rc |= stat_u(o, "store_full", ps.efull);
	rc |= stat_u(o, "store_busy_ring", ps.busy_ring);
	rc |= stat_u(o, "store_busy_batches", ps.busy_batches);
	rc |= stat_s(o, "pool", pool_name(ctx->pool));
	rc |= stat_u(o, "memory_budget", srv->budget);
	return rc ? SPC_ENOMEM : SPC_OK;
}

static int stats_settings(struct spc_srv_ctx *ctx)
{
	struct spc_server *srv = ctx->srv;
	struct spc_proto_out *o = ctx->out;
	enum spc_mode mode;
	int rc = 0;

	rc |= stat_u(o, "maxbytes", srv->budget);
	rc |= stat_u(o, "maxconns", srv->opt.max_conns);
	rc |= stat_s(o, "index_listen", srv->opt.index_listen);
	rc |= stat_s(o, "view_listen", srv->opt.view_listen);
	rc |= stat_u(o, "verbosity", (uint64_t)__atomic_load_n(&srv->verbose, __ATOMIC_RELAXED));
	rc |= stat_u(o, "num_threads", srv->nworkers);
	rc |= stat_s(o, "evictions", srv->opt.no_evict ? "off" : "on");
	rc |= stat_s(o, "cas_enabled", srv->opt.no_cas ? "no" : "yes");
	rc |= stat_s(o, "flush_enabled", srv->opt.no_flush ? "no" : "yes");
	rc |= stat_s(o, "auth_enabled_ascii", srv->auth ? "yes" : "no");
	rc |= stat_u(o, "item_size_max", srv->opt.item_max);
	rc |= stat_u(o, "idle_time", srv->opt.idle_timeout_s);
	rc |= stat_u(o, "max_line", srv->opt.line_max);
	rc |= stat_u(o, "max_output", srv->opt.out_max);
	rc |= stat_s(o, "binding_protocol", "ascii");
	rc |= stat_s(o, "io", spc_srv_io_name(srv->opt.io));
	mode = __atomic_load_n(&srv->opt.mode, __ATOMIC_RELAXED); /* split_mode changes it */
	rc |= stat_s(o, "mode", mode == SPC_MODE_INDEXER ? "indexer"
			      : mode == SPC_MODE_VIEW ? "view" : "split");
	return rc ? SPC_ENOMEM : SPC_OK;
}

struct stat_field {
	const char *n;
	uint64_t v;
};

static int stats_pools(struct spc_srv_ctx *ctx)
{
	struct spc_server *srv = ctx->srv;
	struct spc_proto_out *o = ctx->out;
	struct spc_mem_report *r = calloc(1, sizeof *r);
	char name[64], b[NUM_BUF];
	int p, rc = 0;

	if (!r)
		return SPC_ENOMEM;
	if (spc_memory_report(srv->cache, r) != SPC_OK)
		memset(r, 0, sizeof *r);
	else {
		rc |= stat_u(o, "memory_budget", r->budget_bytes);
		rc |= stat_s(o, "memory_source", r->tightest_source ? r->tightest_source : "");
		rc |= stat_u(o, "memory_explicit", (uint64_t)r->explicit_budget);
		rc |= stat_u(o, "memory_reserved", r->reserved_bytes);
		rc |= stat_u(o, "memory_below_minimum", (uint64_t)r->below_recommended_minimum);
		rc |= stat_u(o, "memory_degraded", (uint64_t)r->degraded);
		snprintf(b, sizeof b, "%.3f", r->view_share);
		rc |= stat_s(o, "view_share", b);
	}
	for (p = 0; p < SPC_POOL_COUNT; p++) {
		const struct spc_mem_pool_report *m = &r->pools[p];
		struct spc_stats s;
		const struct stat_field *f, *end;

		if (spc_stats(srv->cache, p, &s) != SPC_OK)
			continue;
		{
			/* The memory behind bytes: the index's tables (part of
			 * bytes), the pool's arena (jemalloc's counters) and
			 * the slab layer (docs/memory.md, "What a pool holds"). */
			const struct stat_field fields[] = {
				{ "items", s.items }, { "bytes", s.charged_bytes },
				{ "target_bytes", s.target_bytes }, { "hits", s.hits },
				{ "misses", s.misses }, { "evictions", s.evictions },
				{ "inserts", s.inserts }, { "deletes", s.deletes },
				{ "store_full", s.efull }, { "expirations", s.expirations },
				{ "store_busy_ring", s.busy_ring },
				{ "store_busy_batches", s.busy_batches },
				{ "reclaim_backlog_bytes", s.reclaim_backlog_bytes },
				{ "index_bytes", s.index_bytes },
				{ "arena_allocated", m->arena_allocated },
				{ "arena_active", m->arena_active },
				{ "arena_resident", m->arena_resident },
				{ "arena_mapped", m->arena_mapped },
				{ "slab_chunk_bytes", m->slab_chunk_bytes },
				{ "slab_inuse_bytes", m->slab_inuse_bytes },
				{ "slab_live_bytes", m->slab_live_bytes },
				{ "slab_held_bytes", m->slab_held_bytes },
			};

			end = fields + sizeof fields / sizeof fields[0];
			for (f = fields; f < end; f++) {
				snprintf(name, sizeof name, "%s:%s", pool_name(p), f->n);
				rc |= stat_u(o, name, f->v);
			}
		}
	}
	free(r);
	return rc ? SPC_ENOMEM : SPC_OK;
}

/* "stats workers": how the connections spread over the worker threads. */
static int stats_workers(struct spc_srv_ctx *ctx)
{
	struct spc_server *srv = ctx->srv;
	const struct spc_srv_counters *cnt;
	char name[64];
	int rc = 0;

	rc |= stat_u(ctx->out, "threads", srv->nworkers);
	for (unsigned i = 0; (cnt = spc_srv_worker_counters(srv, i)) != NULL; i++) {
		snprintf(name, sizeof name, "worker_%u_curr_connections", i);
		rc |= stat_u(ctx->out, name, spc_srv_worker_conns(srv, i));
		snprintf(name, sizeof name, "worker_%u_total_connections", i);
		rc |= stat_u(ctx->out, name, spc_srv_read(&cnt->total_connections));
		snprintf(name, sizeof name, "worker_%u_handed_off", i);
		rc |= stat_u(ctx->out, name, spc_srv_read(&cnt->conns_handed_off));
	}
	return rc ? SPC_ENOMEM : SPC_OK;
}

/* The first argument of stats is `word`. */
static bool arg_is(const char *a, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && !memcmp(a, word, w) && (n == w || a[w] == ' ');
}

enum spc_srv_exec spc_srv_exec_stats(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const char *a = req->keys ? req->keys : "";
	size_t n = req->keys ? req->keys_len : 0;
	int rc;

	while (n && *a == ' ') {
		a++;
		n--;
	}
	if (n == 0) {
		rc = stats_general(ctx);
	} else if (arg_is(a, n, "settings")) {
		rc = stats_settings(ctx);
	} else if (arg_is(a, n, "pools")) {
		rc = stats_pools(ctx);
	} else if (arg_is(a, n, "workers")) {
		rc = stats_workers(ctx);
	} else if (arg_is(a, n, "reset")) {
		spc_srv_stats_reset(ctx->srv);
		return ok_or_close(spc_proto_puts(ctx->out, SPC_PROTO_RESET));
	} else if (arg_is(a, n, "items") || arg_is(a, n, "slabs") || arg_is(a, n, "sizes") ||
		   arg_is(a, n, "conns")) {
		rc = SPC_OK; /* no slab classes: an empty list */
	} else {
		return ok_or_close(spc_proto_puts(ctx->out, SPC_PROTO_ERROR_LINE));
	}
	if (rc != SPC_OK)
		return SPC_SRV_CLOSE;
	return ok_or_close(spc_proto_puts(ctx->out, SPC_PROTO_END));
}
