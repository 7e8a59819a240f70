/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec_meta.c: the meta commands (mg ms md ma mn me) and stats.
 *
 * Meta commands map onto the same item layer as the classic ones:
 *   mg  get; T touches; v returns the value (VA) else HD; f t c s k O.
 *   ms  M mode E (add) A (append) P (prepend) R (replace) S (set); with C
 *       a cas store; F flags, T ttl; returns c (the new cas), k, O.
 *   md  delete; C must match.
 *   ma  M I/+ incr, D/- decr; D delta; N autovivifies with J (initial
 *       value) and N's ttl; C must match; v returns the number.
 *   mn  MN.  me  a one-line description of the item, or EN.
 * Not supported (accepted and ignored, documented in docs/protocol.md):
 * mg's N (vivify on miss) and R (recache), the stale marking of I, and the
 * hit / last-access returns h and l (no per-item access history is kept).
 *
 * stats: memcached's general statistics computed from the worker counters
 * and the cache's per-pool statistics, "stats settings" and "stats pools"
 * (ours: both pools and the memory detection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "service/server.h"

#define NUM_BUF 48

static enum spc_srv_exec ok_or_close(int rc)
{
	return rc == SPC_OK ? SPC_SRV_DONE : SPC_SRV_CLOSE;
}

static enum spc_srv_exec meta_code(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
				   enum spc_proto_meta_code code,
				   const struct spc_proto_meta_vals *v)
{
	return ok_or_close(spc_proto_meta_reply(ctx->out, req, code, v, NULL, 0));
}

/* A store/arith failure that is no meta code: memcached's SERVER_ERROR line. */
static enum spc_srv_exec meta_server_error(struct spc_srv_ctx *ctx, enum spc_proto_cmd cmd,
					   int rc)
{
	const char *s = spc_proto_status_line(cmd, rc);

	return ok_or_close(spc_proto_puts(ctx->out, s ? s : "SERVER_ERROR unhandled status\r\n"));
}

static void item_vals(const struct spc_srv_item *it, uint64_t now,
		      struct spc_proto_meta_vals *v)
{
	memset(v, 0, sizeof *v);
	v->have = SPC_PROTO_MV_FLAGS | SPC_PROTO_MV_TTL | SPC_PROTO_MV_CAS | SPC_PROTO_MV_SIZE;
	v->flags = it->flags;
	v->ttl = it->expiry == 0 ? -1 : (int64_t)(it->expiry - now);
	v->cas = it->cas;
	v->size = it->len;
}

static enum spc_srv_exec exec_mg(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	struct spc_srv_store *st = &ctx->srv->store;
	bool value = m->seen & SPC_PROTO_MF('v');
	struct spc_proto_meta_vals v;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_item it;
	struct spc_srv_ns ns;
	int rc, wrc = SPC_OK;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	spc_srv_count(&ctx->cnt->cmd_get, 1);
	if (m->seen & SPC_PROTO_MF('T')) {
		spc_srv_count(&ctx->cnt->cmd_touch, 1);
		rc = spc_srv_touch(st, &ns, k, kl, spc_srv_expiry(m->ttl, ctx->now), ctx->now, &it);
		if (rc == SPC_OK) {
			item_vals(&it, ctx->now, &v);
			wrc = spc_proto_meta_reply(ctx->out, req, value ? SPC_PROTO_VA : SPC_PROTO_HD,
						   &v, it.data, it.len);
			free((void *)it.data);
		}
	} else {
		spc_read_lock(st->cache);
		rc = spc_srv_get_rcu(st, &ns, k, kl, ctx->now, &it);
		if (rc == SPC_OK) {
			item_vals(&it, ctx->now, &v);
			wrc = spc_proto_meta_reply(ctx->out, req, value ? SPC_PROTO_VA : SPC_PROTO_HD,
						   &v, it.data, it.len);
		}
		spc_read_unlock(st->cache);
	}
	spc_srv_count(rc == SPC_OK ? &ctx->cnt->get_hits : &ctx->cnt->get_misses, 1);
	if (rc != SPC_OK)
		return meta_code(ctx, req, SPC_PROTO_EN, NULL);
	return ok_or_close(wrc);
}

static int ms_mode(const struct spc_proto_meta *m)
{
	bool cas = m->seen & SPC_PROTO_MF('C');

	switch (m->mode) {
	case 'E': return SPC_STORE_ADD;
	case 'A': return SPC_STORE_APPEND;
	case 'P': return SPC_STORE_PREPEND;
	case 'R': return cas ? SPC_STORE_CAS : SPC_STORE_REPLACE;
	default: return cas ? SPC_STORE_CAS : SPC_STORE_SET;
	}
}

static enum spc_srv_exec exec_ms(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	int mode = ms_mode(m);
	struct spc_proto_meta_vals v;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	uint64_t cas = 0;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	rc = spc_srv_put(&ctx->srv->store, &ns, mode, k, kl, req->data, req->bytes,
			 m->client_flags, (m->seen & SPC_PROTO_MF('T')) ?
			 spc_srv_expiry(m->ttl, ctx->now) : 0,
			 (m->seen & SPC_PROTO_MF('C')) ? m->compare_cas : 0, ctx->now, &cas);
	spc_srv_count(&ctx->cnt->cmd_set, 1);
	memset(&v, 0, sizeof v);
	switch (rc) {
	case SPC_OK:
		v.have = SPC_PROTO_MV_CAS;
		v.cas = cas;
		return meta_code(ctx, req, SPC_PROTO_HD, &v);
	case SPC_EEXISTS:
		return meta_code(ctx, req, mode == SPC_STORE_ADD ? SPC_PROTO_NS : SPC_PROTO_EX, NULL);
	case SPC_ENOTFOUND:
		return meta_code(ctx, req, mode == SPC_STORE_CAS ? SPC_PROTO_NF : SPC_PROTO_NS, NULL);
	default:
		return meta_server_error(ctx, SPC_PROTO_SET, rc);
	}
}

static enum spc_srv_exec exec_md(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	rc = spc_srv_delete(&ctx->srv->store, &ns, k, kl,
			    (m->seen & SPC_PROTO_MF('C')) ? m->compare_cas : 0, ctx->now);
	spc_srv_count(rc == SPC_OK ? &ctx->cnt->delete_hits : &ctx->cnt->delete_misses, 1);
	return meta_code(ctx, req, rc == SPC_OK ? SPC_PROTO_HD
				   : rc == SPC_EEXISTS ? SPC_PROTO_EX : SPC_PROTO_NF, NULL);
}

static enum spc_srv_exec exec_ma(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	bool decr = m->mode == 'D' || m->mode == '-';
	uint64_t cas_expect = (m->seen & SPC_PROTO_MF('C')) ? m->compare_cas : 0;
	struct spc_srv_store *st = &ctx->srv->store;
	struct spc_proto_meta_vals v;
	const char *k = req->key;
	size_t kl = req->klen;
	char num[NUM_BUF];
	struct spc_srv_ns ns;
	uint64_t val = 0, cas = 0;
	int rc, n;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	rc = spc_srv_arith(st, &ns, k, kl, decr, m->delta, cas_expect, ctx->now, &val, &cas);
	if (rc == SPC_ENOTFOUND && (m->seen & SPC_PROTO_MF('N'))) {
		n = snprintf(num, sizeof num, "%llu", (unsigned long long)m->initial);
		rc = spc_srv_put(st, &ns, SPC_STORE_ADD, k, kl, num, (size_t)n, 0,
				 spc_srv_expiry(m->vivify_ttl, ctx->now), 0, ctx->now, &cas);
		val = m->initial;
		if (rc == SPC_EEXISTS) /* created meanwhile: apply the delta to it */
			rc = spc_srv_arith(st, &ns, k, kl, decr, m->delta, 0, ctx->now, &val, &cas);
	}
	if (decr)
		spc_srv_count(rc == SPC_ENOTFOUND ? &ctx->cnt->decr_misses : &ctx->cnt->decr_hits, 1);
	else
		spc_srv_count(rc == SPC_ENOTFOUND ? &ctx->cnt->incr_misses : &ctx->cnt->incr_hits, 1);
	switch (rc) {
	case SPC_OK:
		break;
	case SPC_ENOTFOUND:
		return meta_code(ctx, req, SPC_PROTO_NF, NULL);
	case SPC_EEXISTS:
		return meta_code(ctx, req, SPC_PROTO_EX, NULL);
	default:
		return meta_server_error(ctx, SPC_PROTO_INCR, rc);
	}
	memset(&v, 0, sizeof v);
	v.have = SPC_PROTO_MV_CAS;
	v.cas = cas;
	n = snprintf(num, sizeof num, "%llu", (unsigned long long)val);
	if (m->seen & SPC_PROTO_MF('v'))
		return ok_or_close(spc_proto_meta_reply(ctx->out, req, SPC_PROTO_VA, &v, num,
							(size_t)n));
	return meta_code(ctx, req, SPC_PROTO_HD, &v);
}

static enum spc_srv_exec exec_me(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	struct spc_srv_store *st = &ctx->srv->store;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_item it;
	struct spc_srv_ns ns;
	char line[SPC_PROTO_KEY_MAX + 160];
	int rc, n = 0;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	spc_read_lock(st->cache);
	rc = spc_srv_get_rcu(st, &ns, k, kl, ctx->now, &it);
	if (rc == SPC_OK)
		n = snprintf(line, sizeof line, "ME %.*s exp=%lld la=0 cas=%llu fetch=no cls=1 size=%zu\r\n",
			     (int)req->klen, req->key,
			     it.expiry ? (long long)(it.expiry - ctx->now) : -1LL,
			     (unsigned long long)it.cas, it.len);
	spc_read_unlock(st->cache);
	if (rc != SPC_OK)
		return ok_or_close(spc_proto_puts(ctx->out, "EN\r\n"));
	return ok_or_close(spc_proto_put(ctx->out, line, (size_t)n));
}

enum spc_srv_exec spc_srv_exec_meta(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	switch (req->cmd) {
	case SPC_PROTO_MG: return exec_mg(ctx, req);
	case SPC_PROTO_MS: return exec_ms(ctx, req);
	case SPC_PROTO_MD: return exec_md(ctx, req);
	case SPC_PROTO_MA: return exec_ma(ctx, req);
	case SPC_PROTO_ME: return exec_me(ctx, req);
	default: return ok_or_close(spc_proto_reply_mn(ctx->out));
	}
}

/* ---- stats ------------------------------------------------------------ */

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
	if (spc_memory_report(srv->cache, r) == SPC_OK) {
		rc |= stat_u(o, "memory_budget", r->budget_bytes);
		rc |= stat_s(o, "memory_source", r->tightest_source ? r->tightest_source : "");
		rc |= stat_u(o, "memory_explicit", (uint64_t)r->explicit_budget);
		rc |= stat_u(o, "memory_reserved", r->reserved_bytes);
		rc |= stat_u(o, "memory_below_minimum", (uint64_t)r->below_recommended_minimum);
		rc |= stat_u(o, "memory_degraded", (uint64_t)r->degraded);
		snprintf(b, sizeof b, "%.3f", r->view_share);
		rc |= stat_s(o, "view_share", b);
	}
	free(r);
	for (p = 0; p < SPC_POOL_COUNT; p++) {
		struct spc_stats s;
		const struct stat_field *f, *end;

		if (spc_stats(srv->cache, p, &s) != SPC_OK)
			continue;
		{
			const struct stat_field fields[] = {
				{ "items", s.items }, { "bytes", s.charged_bytes },
				{ "target_bytes", s.target_bytes }, { "hits", s.hits },
				{ "misses", s.misses }, { "evictions", s.evictions },
				{ "inserts", s.inserts }, { "deletes", s.deletes },
				{ "store_full", s.efull }, { "expirations", s.expirations },
				{ "reclaim_backlog_bytes", s.reclaim_backlog_bytes },
				{ "store_busy_ring", s.busy_ring },
				{ "store_busy_batches", s.busy_batches },
			};

			end = fields + sizeof fields / sizeof fields[0];
			for (f = fields; f < end; f++) {
				snprintf(name, sizeof name, "%s:%s", pool_name(p), f->n);
				rc |= stat_u(o, name, f->v);
			}
		}
	}
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
