/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec.c: the classic memcached text commands, executed against
 * the item layer (store.h) with replies written by the protocol layer.
 *
 * The parser (proto.h) has already checked every token and produced every
 * format error; what is left is the cache's answer. A reply goes to the
 * connection's output buffer, whose grow() hook enforces the connection's
 * output cap: a reply the cap refuses closes the connection (memory per
 * connection stays bounded whatever a client asks for).
 *
 * Multi-key gets write one VALUE at a time, copying each value straight
 * from the cache inside a short read section. When the pending output
 * passes ctx->out_soft before the next key, the get stops, keeps its place
 * in ctx->get_pos and returns SPC_SRV_SUSPEND; the worker calls again with
 * the same request once the client has read enough. So one reply of any
 * size streams through a bounded buffer, and a client that reads slowly is
 * served slowly. Between requests there is no pause: a client that sends
 * requests and does not read the replies is closed at the output cap.
 *
 * Guarantees (tests/service):
 *  1. Replies are memcached 1.6's bytes; "noreply" hides every reply line
 *     of the storage, delete, incr/decr, touch, flush_all and verbosity
 *     commands, errors included, as memcached does.
 *  2. A get reply holds the keys in request order, each at most once per
 *     occurrence, and ends with END even when it was suspended.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/cli.h"
#include "service/server.h"

uint64_t spc_srv_expiry(int64_t exptime, uint64_t now)
{
	int64_t t = spc_proto_exptime(exptime, (int64_t)now);

	if (t < 0)
		return 1; /* a deadline in the past: invisible at once */
	return (uint64_t)t;
}

/* Appends a fixed line unless noreply. SPC_SRV_CLOSE when the cap refused. */
static enum spc_srv_exec line(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
			      const char *s)
{
	if (!s || req->noreply)
		return SPC_SRV_DONE;
	return spc_proto_puts(ctx->out, s) == SPC_OK ? SPC_SRV_DONE : SPC_SRV_CLOSE;
}

static enum spc_srv_exec status_line(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
				     int rc)
{
	const char *s = spc_proto_status_line(req->cmd, rc);

	if (!s) {
		s = "SERVER_ERROR unhandled status\r\n";
		spc_srv_log(ctx->srv, SPC_SRV_LOG_ERR, "%s: %s", spc_proto_cmd_name(req->cmd),
			    spc_strerror(rc));
	}
	return line(ctx, req, s);
}

/* One key of get/gets/gat/gats. Returns SPC_OK or SPC_ENOMEM (cap). */
static int get_one(struct spc_srv_ctx *ctx, const struct spc_proto_req *req, const char *key,
		   size_t klen)
{
	bool touch = req->cmd == SPC_PROTO_GAT || req->cmd == SPC_PROTO_GATS;
	bool with_cas = req->cmd == SPC_PROTO_GETS || req->cmd == SPC_PROTO_GATS;
	struct spc_srv_store *st = &ctx->srv->store;
	const char *k = key;
	size_t kl = klen;
	struct spc_srv_item it;
	struct spc_srv_ns ns;
	int rc, wrc = SPC_OK;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	if (touch) {
		spc_srv_count(&ctx->cnt->cmd_touch, 1);
		rc = spc_srv_touch(st, &ns, k, kl, spc_srv_expiry(req->exptime, ctx->now), ctx->now,
				   &it);
		if (rc == SPC_OK) {
			wrc = spc_proto_reply_value(ctx->out, key, klen, it.flags, it.data, it.len,
						    with_cas, it.cas);
			spc_srv_marks_fetch(&st->marks, it.cas, ctx->now);
			free((void *)it.data);
		}
		spc_srv_count(rc == SPC_OK ? &ctx->cnt->touch_hits : &ctx->cnt->touch_misses, 1);
	} else {
		spc_read_lock(st->cache);
		rc = spc_srv_get_rcu(st, &ns, k, kl, ctx->now, &it);
		if (rc == SPC_OK) {
			wrc = spc_proto_reply_value(ctx->out, key, klen, it.flags, it.data, it.len,
						    with_cas, it.cas);
			spc_srv_marks_fetch(&st->marks, it.cas, ctx->now);
		}
		spc_read_unlock(st->cache);
	}
	spc_srv_count(&ctx->cnt->cmd_get, 1);
	spc_srv_count(rc == SPC_OK ? &ctx->cnt->get_hits : &ctx->cnt->get_misses, 1);
	return wrc;
}

static enum spc_srv_exec exec_get(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const char *key;
	size_t klen;

	if (!ctx->get_started) {
		ctx->get_started = true;
		ctx->get_pos = 0;
	}
	for (;;) {
		size_t before = ctx->get_pos;

		if (!spc_proto_next_key(req, &ctx->get_pos, &key, &klen))
			break;
		/* Pause between keys only: a reply that is complete goes out
		 * whole, so pending output of requests a client sent but does
		 * not read keeps growing until the cap closes it. */
		if (before > 0 && ctx->out->len > ctx->out_soft) {
			ctx->get_pos = before;
			return SPC_SRV_SUSPEND;
		}
		if (get_one(ctx, req, key, klen) != SPC_OK)
			return SPC_SRV_CLOSE;
	}
	ctx->get_started = false;
	return spc_proto_puts(ctx->out, SPC_PROTO_END) == SPC_OK ? SPC_SRV_DONE : SPC_SRV_CLOSE;
}

static int store_mode(enum spc_proto_cmd cmd)
{
	switch (cmd) {
	case SPC_PROTO_ADD: return SPC_STORE_ADD;
	case SPC_PROTO_REPLACE: return SPC_STORE_REPLACE;
	case SPC_PROTO_APPEND: return SPC_STORE_APPEND;
	case SPC_PROTO_PREPEND: return SPC_STORE_PREPEND;
	case SPC_PROTO_CAS: return SPC_STORE_CAS;
	default: return SPC_STORE_SET;
	}
}

static enum spc_srv_exec exec_store(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	uint64_t cas = 0;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	if ((req->cmd == SPC_PROTO_APPEND || req->cmd == SPC_PROTO_PREPEND) &&
	    !spc_srv_append_fits(&ctx->srv->store, &ns, k, kl, req->bytes, &ctx->srv->limits,
				 ctx->now))
		rc = SPC_ENOTFOUND; /* memcached: NOT_STORED, the old value stays */
	else
		rc = spc_srv_put(&ctx->srv->store, &ns, store_mode(req->cmd), k, kl, req->data,
				 req->bytes, req->flags, spc_srv_expiry(req->exptime, ctx->now),
				 req->cas, ctx->now, &cas);
	if (rc == SPC_OK)
		spc_srv_marks_put(&ctx->srv->store.marks, cas, 0, ctx->now);
	else if (req->cmd == SPC_PROTO_SET && (rc == SPC_EFULL || rc == SPC_ENOMEM ||
					       rc == SPC_ETOOBIG))
		/* memcached drops the old value of a set it could not store */
		spc_srv_delete(&ctx->srv->store, &ns, k, kl, 0, ctx->now);
	spc_srv_count(&ctx->cnt->cmd_set, 1);
	if (req->cmd == SPC_PROTO_CAS)
		spc_srv_count(rc == SPC_OK ? &ctx->cnt->cas_hits
			      : rc == SPC_EEXISTS ? &ctx->cnt->cas_badval : &ctx->cnt->cas_misses, 1);
	if (rc == SPC_ETOOBIG || rc == SPC_EFULL || rc == SPC_EBUSY || rc == SPC_ENOMEM)
		spc_srv_log(ctx->srv, SPC_SRV_LOG_DEBUG, "%s %.*s: %s", spc_proto_cmd_name(req->cmd),
			    (int)req->klen, req->key, spc_strerror(rc));
	return status_line(ctx, req, rc);
}

static enum spc_srv_exec exec_arith(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	bool decr = req->cmd == SPC_PROTO_DECR;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	uint64_t v = 0, cas = 0, expiry = 0;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	rc = spc_srv_arith_marked(&ctx->srv->store, &ns, k, kl, decr, req->delta, 0, ctx->now, &v,
				  &cas, &expiry);
	if (decr)
		spc_srv_count(rc == SPC_ENOTFOUND ? &ctx->cnt->decr_misses : &ctx->cnt->decr_hits, 1);
	else
		spc_srv_count(rc == SPC_ENOTFOUND ? &ctx->cnt->incr_misses : &ctx->cnt->incr_hits, 1);
	if (rc != SPC_OK)
		return status_line(ctx, req, rc);
	if (req->noreply)
		return SPC_SRV_DONE;
	return spc_proto_reply_number(ctx->out, v) == SPC_OK ? SPC_SRV_DONE : SPC_SRV_CLOSE;
}

static enum spc_srv_exec exec_delete(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	rc = spc_srv_delete(&ctx->srv->store, &ns, k, kl, 0, ctx->now);
	spc_srv_count(rc == SPC_OK ? &ctx->cnt->delete_hits : &ctx->cnt->delete_misses, 1);
	return status_line(ctx, req, rc);
}

static enum spc_srv_exec exec_touch(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	rc = spc_srv_touch(&ctx->srv->store, &ns, k, kl, spc_srv_expiry(req->exptime, ctx->now),
			   ctx->now, NULL);
	if (rc == SPC_OK) { /* memcached's touch reads the item: fetched */
		struct spc_srv_item it;

		spc_read_lock(ctx->srv->store.cache);
		if (spc_srv_get_rcu(&ctx->srv->store, &ns, k, kl, ctx->now, &it) == SPC_OK)
			spc_srv_marks_fetch(&ctx->srv->store.marks, it.cas, ctx->now);
		spc_read_unlock(ctx->srv->store.cache);
	}
	spc_srv_count(&ctx->cnt->cmd_touch, 1);
	spc_srv_count(rc == SPC_OK ? &ctx->cnt->touch_hits : &ctx->cnt->touch_misses, 1);
	return status_line(ctx, req, rc);
}

/* flush_all [delay]: at once, or at the deadline (the main thread clears
 * the pool then; a later flush_all replaces the deadline). */
static enum spc_srv_exec exec_flush(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	int rc = SPC_OK;

	if (ctx->srv->opt.no_flush) /* -F: memcached 1.6.18's line, noreply honoured */
		return line(ctx, req, "CLIENT_ERROR flush_all not allowed\r\n");
	spc_srv_count(&ctx->cnt->cmd_flush, 1);
	if (req->has_exptime && req->exptime > 0) {
		uint64_t at = spc_srv_expiry(req->exptime, ctx->now);

		__atomic_store_n(&ctx->srv->flush_at[ctx->pool], at, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&ctx->srv->flush_at[ctx->pool], 0, __ATOMIC_RELAXED);
		rc = spc_clear(ctx->srv->cache, ctx->pool);
	}
	return status_line(ctx, req, rc);
}

enum spc_srv_exec spc_srv_exec_error(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	if (req->too_large && (req->cmd == SPC_PROTO_SET || req->cmd == SPC_PROTO_MS)) {
		/* memcached unlinks the old item so that a client never reads
		 * the value it tried to replace (set only; ms whatever its
		 * mode) */
		const char *k = req->key;
		size_t kl = req->klen;
		struct spc_srv_ns ns;

		spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
		spc_srv_delete(&ctx->srv->store, &ns, k, kl, 0, ctx->now);
	}
	return spc_proto_reply_error(ctx->out, req) == SPC_OK ? SPC_SRV_DONE : SPC_SRV_CLOSE;
}

/* cache_memlimit <MiB>: memcached's reply lines; the new limit is the
 * budget the pools split (spc_set_memory_limit), never above the one
 * reserved at start. */
static enum spc_srv_exec exec_memlimit(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	int rc;

	if (req->delta < 8)
		return line(ctx, req, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
	rc = req->delta > (UINT64_MAX >> 20) ? SPC_ERANGE
	     : spc_set_memory_limit(ctx->srv->cache, req->delta << 20);
	spc_srv_log(ctx->srv, SPC_SRV_LOG_INFO, "cache_memlimit %llu: %s",
		    (unsigned long long)req->delta, spc_strerror(rc));
	if (rc == SPC_OK || rc == SPC_ETIMEDOUT) /* ETIMEDOUT: the targets hold */
		return line(ctx, req, SPC_PROTO_OK);
	return line(ctx, req, rc == SPC_ERANGE
			      ? "SERVER_ERROR cache_memlimit above the budget reserved at start\r\n"
			      : "SERVER_ERROR cache_memlimit too small to split\r\n");
}

/* split_mode <indexer|view|split> [<view share>]: spc_set_mode. */
static enum spc_srv_exec exec_split_mode(struct spc_srv_ctx *ctx,
					 const struct spc_proto_req *req)
{
	struct spc_server *srv = ctx->srv;
	char word[16], share_s[32];
	const char *w, *sh = NULL;
	size_t pos = 0, wl, shl = 0;
	double share = 0.5;
	enum spc_mode mode;
	int rc;

	if (!spc_proto_next_key(req, &pos, &w, &wl) || wl >= sizeof word ||
	    (spc_proto_next_key(req, &pos, &sh, &shl) && shl >= sizeof share_s))
		return line(ctx, req, "CLIENT_ERROR bad command line format\r\n");
	memcpy(word, w, wl);
	word[wl] = '\0';
	if (sh) {
		memcpy(share_s, sh, shl);
		share_s[shl] = '\0';
	}
	if (!spc_cli_mode(word, &mode) || (sh && !spc_cli_share(share_s, &share)))
		return line(ctx, req, "CLIENT_ERROR bad command line format\r\n");
	if (!sh) {
		struct spc_mem_report *r = calloc(1, sizeof *r);

		if (r && spc_memory_report(srv->cache, r) == SPC_OK)
			share = r->view_share; /* keep the current share */
		free(r);
	}
	rc = spc_set_mode(srv->cache, mode, share);
	spc_srv_log(srv, SPC_SRV_LOG_INFO, "split_mode %s %.3f: %s", word, share, spc_strerror(rc));
	if (rc == SPC_OK) {
		/* Relaxed: a setting stats settings reports; any recent value. */
		__atomic_store_n(&srv->opt.mode, mode, __ATOMIC_RELAXED);
		return line(ctx, req, SPC_PROTO_OK);
	}
	return line(ctx, req, rc == SPC_ETIMEDOUT
			      ? "SERVER_ERROR the shrinking pool could not shed in time\r\n"
			      : "CLIENT_ERROR bad command line format\r\n");
}

enum spc_srv_exec spc_srv_exec(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	switch (req->cmd) {
	case SPC_PROTO_GET:
	case SPC_PROTO_GETS:
	case SPC_PROTO_GAT:
	case SPC_PROTO_GATS:
		return exec_get(ctx, req);
	case SPC_PROTO_SET:
	case SPC_PROTO_ADD:
	case SPC_PROTO_REPLACE:
	case SPC_PROTO_APPEND:
	case SPC_PROTO_PREPEND:
	case SPC_PROTO_CAS:
		return exec_store(ctx, req);
	case SPC_PROTO_INCR:
	case SPC_PROTO_DECR:
		return exec_arith(ctx, req);
	case SPC_PROTO_DELETE:
		return exec_delete(ctx, req);
	case SPC_PROTO_TOUCH:
		return exec_touch(ctx, req);
	case SPC_PROTO_FLUSH_ALL:
		return exec_flush(ctx, req);
	case SPC_PROTO_VERSION:
		return spc_proto_reply_version(ctx->out, SPC_SRV_VERSION) == SPC_OK ? SPC_SRV_DONE
										  : SPC_SRV_CLOSE;
	case SPC_PROTO_VERBOSITY:
		__atomic_store_n(&ctx->srv->verbose, (int)(req->verbosity > SPC_SRV_LOG_DEBUG
							   ? SPC_SRV_LOG_DEBUG : req->verbosity),
				 __ATOMIC_RELAXED);
		return line(ctx, req, SPC_PROTO_OK);
	case SPC_PROTO_STATS:
		return spc_srv_exec_stats(ctx, req);
	case SPC_PROTO_CACHE_MEMLIMIT:
		return exec_memlimit(ctx, req);
	case SPC_PROTO_SPLIT_MODE:
		return exec_split_mode(ctx, req);
	case SPC_PROTO_QUIT:
		return SPC_SRV_CLOSE;
	case SPC_PROTO_MG:
	case SPC_PROTO_MS:
	case SPC_PROTO_MD:
	case SPC_PROTO_MA:
	case SPC_PROTO_MN:
	case SPC_PROTO_ME:
		return spc_srv_exec_meta(ctx, req);
	default:
		return spc_proto_puts(ctx->out, SPC_PROTO_ERROR_LINE) == SPC_OK ? SPC_SRV_DONE
										 : SPC_SRV_CLOSE;
	}
}
