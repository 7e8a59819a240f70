/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec_meta.c: the meta commands mg ms md ma mn me.
 *
 * The commands map onto the item layer (store.h) as memcached 1.6.18
 * runs them (every rule below was checked against it, tests/service/
 * memcached/):
 *   mg  get; T touches; N creates an empty item on a miss and sends its
 *       creator the win token (W); R sends W when the remaining ttl is
 *       below its token; a stale item (X) sends W to its first reader,
 *       Z to the others; h l report fetched / last access before this
 *       read; u leaves them alone. q hides EN only.
 *   ms  M mode E (add) A (append) P (prepend) R (replace) S (set); C a cas
 *       store; with I a cas older than the item's stores and marks it
 *       stale, keeping its ttl. Every refusal echoes c as c0. A value too
 *       large or without room removes the old one, whatever the mode.
 *   md  delete; C must match; I marks stale instead (a new cas, the
 *       token free again, T a new ttl). Echoes k and O only.
 *   ma  M I/+ incr, D/- decr; D delta; N creates the item with J on a
 *       miss; T sets the ttl on success; c t k O echoed. q hides the
 *       reply of an increment (VA too), not of a creation.
 *   me  memcached's debug line: exp (as 1.6.18 prints it: minus the
 *       remaining ttl), la, cas, fetch, cls, size.
 * The flags t and T/N apply in request order: "mg k t T30" shows the ttl
 * before the touch. What memcached keeps in the item header and the cache
 * does not (fetched, last access, stale, token sent, key sent in base64)
 * lives in the marks table (marks.h), by cas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/server.h"

/* A read-modify-write that lost a race to another client is retried this
 * often before the request is answered as if the other came first. */
#define RETRIES 8

#define NUM_BUF 48
/* memcached's item header with its cas, and the "\r\n" it stores. */
#define ITEM_HEADER 56
#define SLAB_BASE 96 /* its smallest slab class: header + 48 */

static enum spc_srv_exec ok_or_close(int rc)
{
	return rc == SPC_OK ? SPC_SRV_DONE : SPC_SRV_CLOSE;
}

static bool has(const struct spc_proto_meta *m, char c)
{
	return (m->seen & SPC_PROTO_MF(c)) != 0;
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

static int64_t ttl_of(uint64_t expiry, uint64_t now)
{
	return expiry == 0 ? -1 : (int64_t)(expiry - now);
}

/* The request's flags in order, as memcached applies them: the ttl t
 * shows where it stands, T (when it applies) and N (on a creation) set
 * the expiry, R compares against the expiry so far. */
struct walk {
	int64_t ttl;     /* what t shows */
	uint64_t expiry; /* after the whole line */
	bool recache;    /* R: the remaining ttl is below its token */
};

static void walk_flags(const struct spc_proto_meta *m, bool apply_t, bool created,
		       uint64_t expiry, uint64_t now, struct walk *w)
{
	w->expiry = expiry;
	w->ttl = -1;
	w->recache = false;
	for (size_t i = 0; i < m->norder; i++) {
		switch (m->order[i]) {
		case 't':
			w->ttl = ttl_of(w->expiry, now);
			break;
		case 'T':
			if (apply_t)
				w->expiry = spc_srv_expiry(m->ttl, now);
			break;
		case 'N':
			if (created)
				w->expiry = spc_srv_expiry(m->vivify_ttl, now);
			break;
		case 'R':
			if (!created && w->expiry != 0 &&
			    w->expiry < spc_srv_expiry(m->recache_ttl, now))
				w->recache = true;
			break;
		default:
			break;
		}
	}
}

/* The marks a new item starts with when this request stored it. */
static unsigned stored_marks(const struct spc_proto_req *req)
{
	return req->meta.base64 ? SPC_SRV_MARK_KEY_B64 : 0;
}

/* ---- mg ------------------------------------------------------------- */

/* Writes the reply to an mg hit; it is the item (created: by this mg). */
static int mg_reply(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
		    const struct spc_srv_item *it, bool created, const struct walk *w)
{
	const struct spc_proto_meta *m = &req->meta;
	struct spc_srv_marks *mk = &ctx->srv->store.marks;
	struct spc_proto_meta_vals v;
	struct spc_srv_mark mark;
	bool known = spc_srv_marks_get(mk, it->cas, &mark);
	bool z = mark.marks & SPC_SRV_MARK_WON, x = mark.marks & SPC_SRV_MARK_STALE;
	bool won = created || w->recache || (x && !z);
	char tail[8] = "";

	if (won && !created && z)
		won = false; /* R after the token went out: Z alone */
	if (won && !created && !spc_srv_marks_claim(mk, it->cas, ctx->now)) {
		won = false; /* another reader claimed it first */
		z = true;
	}
	if (created)
		z = false;
	snprintf(tail, sizeof tail, "%s%s%s%s%s", z ? "Z" : "", z && (x || won) ? " " : "",
		 x ? "X" : "", x && won ? " " : "", won ? "W" : "");
	memset(&v, 0, sizeof v);
	v.have = SPC_PROTO_MV_FLAGS | SPC_PROTO_MV_TTL | SPC_PROTO_MV_CAS | SPC_PROTO_MV_SIZE |
		 SPC_PROTO_MV_HIT | SPC_PROTO_MV_LAST | SPC_PROTO_MV_KEY;
	v.flags = it->flags;
	v.ttl = w->ttl;
	v.cas = it->cas;
	v.size = it->len;
	v.hit = (mark.marks & SPC_SRV_MARK_FETCHED) ? 1 : 0;
	v.last = known && ctx->now > mark.atime ? ctx->now - mark.atime : 0;
	v.key = req->key;
	v.klen = req->klen;
	/* memcached echoes k as the item was stored: base64 only when an ms
	 * with b wrote it (a created item never) */
	v.key_base64 = created ? false : known ? (mark.marks & SPC_SRV_MARK_KEY_B64) != 0
						: m->base64;
	v.tail = tail;
	if (!has(m, 'u'))
		spc_srv_marks_fetch(mk, it->cas, ctx->now);
	return spc_proto_meta_reply(ctx->out, req, has(m, 'v') ? SPC_PROTO_VA : SPC_PROTO_HD, &v,
				    it->data, it->len);
}

/* mg with T or N: read a copy, create or touch, then reply. */
static enum spc_srv_exec mg_modify(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
				   const struct spc_srv_ns *ns, const char *k, size_t kl)
{
	const struct spc_proto_meta *m = &req->meta;
	struct spc_srv_store *st = &ctx->srv->store;
	struct spc_srv_item it;
	struct walk w;
	bool created = false;
	int rc = SPC_ENOTFOUND, wrc;

	for (int i = 0; i < RETRIES; i++) {
		rc = spc_srv_get_copy(st, ns, k, kl, &it);
		if (rc != SPC_ENOTFOUND || !has(m, 'N'))
			break;
		walk_flags(m, true, true, 0, ctx->now, &w);
		rc = spc_srv_put(st, ns, SPC_STORE_ADD, k, kl, "", 0, 0, w.expiry, 0, ctx->now,
				 &it.cas);
		if (rc == SPC_EEXISTS)
			continue; /* created meanwhile: read it */
		if (rc != SPC_OK)
			break;
		spc_srv_marks_put(&st->marks, it.cas, SPC_SRV_MARK_WON, ctx->now);
		it.data = NULL;
		it.len = 0;
		it.flags = 0;
		it.expiry = w.expiry;
		created = true;
		break;
	}
	spc_srv_count(has(m, 'T') ? &ctx->cnt->cmd_touch : &ctx->cnt->cmd_get, 1);
	if (rc == SPC_ENOTFOUND || rc == SPC_EEXISTS) {
		spc_srv_count(has(m, 'T') ? &ctx->cnt->touch_misses : &ctx->cnt->get_misses, 1);
		return meta_code(ctx, req, SPC_PROTO_EN, NULL);
	}
	if (rc != SPC_OK)
		return meta_server_error(ctx, SPC_PROTO_SET, rc);
	walk_flags(m, true, created, created ? 0 : it.expiry, ctx->now, &w);
	if (!created && has(m, 'T') && w.expiry != it.expiry)
		spc_srv_touch(st, ns, k, kl, w.expiry, ctx->now, NULL);
	spc_srv_count(has(m, 'T') ? &ctx->cnt->touch_hits : &ctx->cnt->get_hits, 1);
	wrc = mg_reply(ctx, req, &it, created, &w);
	free((void *)it.data);
	return ok_or_close(wrc);
}

static enum spc_srv_exec exec_mg(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	struct spc_srv_store *st = &ctx->srv->store;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_item it;
	struct spc_srv_ns ns;
	struct walk w;
	int rc, wrc = SPC_OK;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	if (has(m, 'T') || has(m, 'N'))
		return mg_modify(ctx, req, &ns, k, kl);
	spc_srv_count(&ctx->cnt->cmd_get, 1);
	spc_read_lock(st->cache);
	rc = spc_srv_get_rcu(st, &ns, k, kl, ctx->now, &it);
	if (rc == SPC_OK) {
		walk_flags(m, false, false, it.expiry, ctx->now, &w);
		wrc = mg_reply(ctx, req, &it, false, &w);
	}
	spc_read_unlock(st->cache);
	spc_srv_count(rc == SPC_OK ? &ctx->cnt->get_hits : &ctx->cnt->get_misses, 1);
	if (rc != SPC_OK)
		return meta_code(ctx, req, SPC_PROTO_EN, NULL);
	return ok_or_close(wrc);
}

/* ---- ms ------------------------------------------------------------- */

static int ms_mode(const struct spc_proto_meta *m)
{
	bool cas = has(m, 'C');

	switch (m->mode) {
	case 'E': return SPC_STORE_ADD;
	case 'A': return SPC_STORE_APPEND;
	case 'P': return SPC_STORE_PREPEND;
	case 'R': return cas ? SPC_STORE_CAS : SPC_STORE_REPLACE;
	default: return cas ? SPC_STORE_CAS : SPC_STORE_SET;
	}
}

/* ms with C and I: a cas older than the item's still stores, keeps the
 * item's ttl and marks it stale (a token already sent stays sent). */
static int ms_invalidate(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
			 const struct spc_srv_ns *ns, const char *k, size_t kl, uint64_t *cas)
{
	const struct spc_proto_meta *m = &req->meta;
	struct spc_srv_store *st = &ctx->srv->store;
	int rc = SPC_EEXISTS;

	for (int i = 0; i < RETRIES && rc == SPC_EEXISTS; i++) {
		struct spc_srv_item cur;
		struct spc_srv_mark mark;

		spc_read_lock(st->cache);
		rc = spc_srv_get_rcu(st, ns, k, kl, ctx->now, &cur);
		spc_read_unlock(st->cache);
		if (rc != SPC_OK)
			return rc;
		if (m->compare_cas >= cur.cas) {
			rc = spc_srv_put(st, ns, SPC_STORE_CAS, k, kl, req->data, req->bytes,
					 m->client_flags, has(m, 'T') ?
					 spc_srv_expiry(m->ttl, ctx->now) : 0, m->compare_cas,
					 ctx->now, cas);
			if (rc == SPC_OK)
				spc_srv_marks_put(&st->marks, *cas, stored_marks(req), ctx->now);
			return rc;
		}
		spc_srv_marks_get(&st->marks, cur.cas, &mark);
		rc = spc_srv_put(st, ns, SPC_STORE_CAS, k, kl, req->data, req->bytes,
				 m->client_flags, cur.expiry, cur.cas, ctx->now, cas);
		if (rc == SPC_OK)
			spc_srv_marks_put(&st->marks, *cas, SPC_SRV_MARK_STALE | stored_marks(req) |
					  (mark.marks & SPC_SRV_MARK_WON), ctx->now);
	}
	return rc;
}

static enum spc_srv_exec exec_ms(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	struct spc_srv_store *st = &ctx->srv->store;
	int mode = ms_mode(m);
	struct spc_proto_meta_vals v;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	uint64_t cas = 0;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	if (mode == SPC_STORE_CAS && has(m, 'I')) {
		rc = ms_invalidate(ctx, req, &ns, k, kl, &cas);
	} else if ((mode == SPC_STORE_APPEND || mode == SPC_STORE_PREPEND) &&
		   !spc_srv_append_fits(st, &ns, k, kl, req->bytes, &ctx->srv->limits, ctx->now)) {
		rc = SPC_ENOTFOUND; /* NS, the old value stays */
	} else {
		rc = spc_srv_put(st, &ns, mode, k, kl, req->data, req->bytes, m->client_flags,
				 has(m, 'T') ? spc_srv_expiry(m->ttl, ctx->now) : 0,
				 has(m, 'C') ? m->compare_cas : 0, ctx->now, &cas);
		if (rc == SPC_OK)
			spc_srv_marks_put(&st->marks, cas, stored_marks(req), ctx->now);
	}
	spc_srv_count(&ctx->cnt->cmd_set, 1);
	memset(&v, 0, sizeof v);
	v.have = SPC_PROTO_MV_CAS; /* c: the new cas, 0 on a refusal */
	switch (rc) {
	case SPC_OK:
		v.cas = cas;
		return meta_code(ctx, req, SPC_PROTO_HD, &v);
	case SPC_EEXISTS:
		return meta_code(ctx, req, mode == SPC_STORE_ADD ? SPC_PROTO_NS : SPC_PROTO_EX, &v);
	case SPC_ENOTFOUND:
		return meta_code(ctx, req, mode == SPC_STORE_CAS ? SPC_PROTO_NF : SPC_PROTO_NS, &v);
	default:
		/* memcached never leaves the old value readable after an ms it
		 * had no room for */
		if (rc == SPC_EFULL || rc == SPC_ENOMEM || rc == SPC_ETOOBIG)
			spc_srv_delete(st, &ns, k, kl, 0, ctx->now);
		return meta_server_error(ctx, SPC_PROTO_SET, rc);
	}
}

/* ---- md ------------------------------------------------------------- */

/* md I: the same value under a new cas, marked stale, its token free. */
static int md_invalidate(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
			 const struct spc_srv_ns *ns, const char *k, size_t kl)
{
	const struct spc_proto_meta *m = &req->meta;
	struct spc_srv_store *st = &ctx->srv->store;
	int rc = SPC_EEXISTS;

	for (int i = 0; i < RETRIES && rc == SPC_EEXISTS; i++) {
		struct spc_srv_item cur;
		struct spc_srv_mark mark;
		uint64_t cas = 0;
		bool known;

		rc = spc_srv_get_copy(st, ns, k, kl, &cur);
		if (rc != SPC_OK)
			return rc;
		if (has(m, 'C') && m->compare_cas != cur.cas) {
			free((void *)cur.data);
			return SPC_EEXISTS;
		}
		known = spc_srv_marks_get(&st->marks, cur.cas, &mark);
		rc = spc_srv_put(st, ns, SPC_STORE_CAS, k, kl, cur.data, cur.len, cur.flags,
				 has(m, 'T') ? spc_srv_expiry(m->ttl, ctx->now) : cur.expiry,
				 cur.cas, ctx->now, &cas);
		free((void *)cur.data);
		if (rc == SPC_OK)
			spc_srv_marks_put(&st->marks, cas, SPC_SRV_MARK_STALE |
					  (mark.marks & (SPC_SRV_MARK_FETCHED | SPC_SRV_MARK_KEY_B64)),
					  known ? mark.atime : ctx->now);
		else if (has(m, 'C') && rc == SPC_EEXISTS)
			return rc;
	}
	return rc;
}

static enum spc_srv_exec exec_md(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	const char *k = req->key;
	size_t kl = req->klen;
	struct spc_srv_ns ns;
	int rc;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	if (has(m, 'I'))
		rc = md_invalidate(ctx, req, &ns, k, kl);
	else
		rc = spc_srv_delete(&ctx->srv->store, &ns, k, kl,
				    has(m, 'C') ? m->compare_cas : 0, ctx->now);
	spc_srv_count(rc == SPC_OK ? &ctx->cnt->delete_hits : &ctx->cnt->delete_misses, 1);
	switch (rc) {
	case SPC_OK:
		return meta_code(ctx, req, SPC_PROTO_HD, NULL);
	case SPC_EEXISTS:
		return meta_code(ctx, req, SPC_PROTO_EX, NULL);
	case SPC_ENOTFOUND:
		return meta_code(ctx, req, SPC_PROTO_NF, NULL);
	default:
		return meta_server_error(ctx, SPC_PROTO_SET, rc);
	}
}

/* ---- ma ------------------------------------------------------------- */

/* The HD or VA of an ma that applied, shown even with q (the caller
 * decided). */
static enum spc_srv_exec ma_reply(struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
				  const struct spc_proto_meta_vals *v, const char *num, size_t n)
{
	struct spc_proto_req *shown = malloc(sizeof *shown);
	int rc;

	if (!shown)
		return SPC_SRV_CLOSE;
	*shown = *req;
	shown->meta.quiet = false;
	if (req->key == req->keybuf)
		shown->key = shown->keybuf;
	rc = spc_proto_meta_reply(ctx->out, shown, has(&req->meta, 'v') ? SPC_PROTO_VA
					  : SPC_PROTO_HD, v, num, n);
	free(shown);
	return ok_or_close(rc);
}

static enum spc_srv_exec exec_ma(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	const struct spc_proto_meta *m = &req->meta;
	bool decr = m->mode == 'D' || m->mode == '-';
	struct spc_srv_store *st = &ctx->srv->store;
	struct spc_proto_meta_vals v;
	const char *k = req->key;
	size_t kl = req->klen;
	char num[NUM_BUF];
	struct spc_srv_ns ns;
	uint64_t val = 0, cas = 0, expiry = 0;
	bool created = false;
	struct walk w;
	int rc, n;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	for (int i = 0; i < 2; i++) {
		rc = spc_srv_arith_marked(st, &ns, k, kl, decr, m->delta,
					  has(m, 'C') ? m->compare_cas : 0, ctx->now, &val, &cas,
					  &expiry);
		if (rc != SPC_ENOTFOUND || !has(m, 'N'))
			break;
		walk_flags(m, true, true, 0, ctx->now, &w);
		n = snprintf(num, sizeof num, "%llu", (unsigned long long)m->initial);
		rc = spc_srv_put(st, &ns, SPC_STORE_ADD, k, kl, num, (size_t)n, 0, w.expiry, 0,
				 ctx->now, &cas);
		if (rc == SPC_EEXISTS)
			continue; /* created meanwhile: apply the delta to it */
		if (rc == SPC_OK) {
			spc_srv_marks_put(&st->marks, cas, 0, ctx->now);
			val = m->initial;
			created = true;
		}
		break;
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
	walk_flags(m, true, created, created ? 0 : expiry, ctx->now, &w);
	if (!created && has(m, 'T') && w.expiry != expiry)
		spc_srv_touch(st, &ns, k, kl, w.expiry, ctx->now, NULL);
	/* memcached's q hides the reply of an increment, VA too, and not
	 * the reply of a creation */
	if (m->quiet && !created)
		return SPC_SRV_DONE;
	memset(&v, 0, sizeof v);
	v.have = SPC_PROTO_MV_CAS | SPC_PROTO_MV_TTL;
	v.cas = cas;
	v.ttl = w.ttl;
	n = snprintf(num, sizeof num, "%llu", (unsigned long long)val);
	return ma_reply(ctx, req, &v, num, (size_t)n);
}

/* ---- me ------------------------------------------------------------- */

/* memcached's slab class for an item of `size` bytes: classes from 96
 * bytes growing by 1.25 (8-byte aligned) up to half the item size limit,
 * the last class that limit; larger items are chunked in the last. */
static unsigned slab_class(size_t size, size_t item_max)
{
	double chunk_max = (double)item_max / 2, s = SLAB_BASE;
	unsigned cls = 1;

	for (;;) {
		size_t c = ((size_t)s + 7) & ~(size_t)7;

		if (s >= chunk_max / 1.25)
			return cls;
		if (size <= c)
			return cls;
		cls++;
		s = (double)c * 1.25;
	}
}

static enum spc_srv_exec exec_me(struct spc_srv_ctx *ctx, const struct spc_proto_req *req)
{
	struct spc_srv_store *st = &ctx->srv->store;
	const char *k = req->key;
	size_t kl = req->klen, size;
	struct spc_srv_item it;
	struct spc_srv_mark mark;
	struct spc_srv_ns ns;
	char key[4 * (SPC_PROTO_KEY_MAX + 2) / 3 + 4];
	char line[sizeof key + 200];
	int rc, n = 0;
	bool known;

	spc_srv_ns_of(ctx->pool, &k, &kl, &ns);
	spc_read_lock(st->cache);
	rc = spc_srv_get_rcu(st, &ns, k, kl, ctx->now, &it);
	spc_read_unlock(st->cache);
	if (rc != SPC_OK)
		return ok_or_close(spc_proto_puts(ctx->out, "EN\r\n"));
	known = spc_srv_marks_get(&st->marks, it.cas, &mark);
	/* the key as the item was stored: base64 when an ms with b wrote it */
	if (known ? (mark.marks & SPC_SRV_MARK_KEY_B64) != 0 : req->meta.base64) {
		size_t e = spc_proto_base64_encode(req->key, req->klen, key);

		key[e] = '\0';
	} else {
		snprintf(key, sizeof key, "%.*s", (int)req->klen, req->key);
	}
	size = ITEM_HEADER + req->klen + 1 + (it.flags ? 4 : 0) + it.len + 2;
	n = snprintf(line, sizeof line,
		     "ME %s exp=%lld la=%llu cas=%llu fetch=%s cls=%u size=%zu\r\n", key,
		     it.expiry ? (long long)ctx->now - (long long)it.expiry : -1LL,
		     (unsigned long long)(known && ctx->now > mark.atime ? ctx->now - mark.atime : 0),
		     (unsigned long long)it.cas,
		     (mark.marks & SPC_SRV_MARK_FETCHED) ? "yes" : "no",
		     slab_class(size, ctx->srv->opt.item_max), size);
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
