/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mcload_conn.c: one connection of mcload: the requests it writes and the
 * check of every reply it reads.
 *
 * A connection keeps up to `depth` requests in flight, oldest first in a
 * ring; memcached's text protocol answers them in order, so the reply at
 * the front of the input always belongs to the ring's head. The parser is
 * incremental: it consumes whole lines (and a VALUE's data once all of it
 * has arrived) and leaves a partial one in the buffer for the next read,
 * so a buffer of one line plus one value is enough whatever the depth.
 *
 * Keys and values are functions of the key's index: key i is 'k' and i in
 * decimal, zero-padded to the key size; its value starts with the key and
 * is filled with one letter chosen by i. Every writer of key i therefore
 * writes the same bytes, and every VALUE read can be compared byte for byte
 * with what it must be, whichever connection stored it. The check is
 * strict: a set must get STORED; a get gets, for keys it named, in the
 * order it named them, VALUE lines with flags 0 and the value size,
 * followed by the exact data, then END. A key not found is a miss (the
 * cache may have evicted it), not an error; anything else is an error,
 * printed and counted, and the connection is closed by the caller, since
 * it can no longer tell which request a reply belongs to.
 */
#include "mcload.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How many wrong replies are printed in full; the rest are only counted. */
#define MCL_PRINT_MAX 10
static atomic_uint mcl_printed;

static void mcl_report(const struct mcl_conn *c, const char *what, const char *line, size_t len)
{
	/* relaxed: a counter that only bounds the output, orders nothing */
	if (atomic_fetch_add_explicit(&mcl_printed, 1, memory_order_relaxed) >= MCL_PRINT_MAX)
		return;
	if (len > 80)
		len = 80;
	fprintf(stderr, "mcload: connection %u: %s: \"", c->id, what);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch >= 32 && ch < 127)
			fputc(ch, stderr);
		else
			fprintf(stderr, "\\x%02x", ch);
	}
	fputs("\"\n", stderr);
}

void mcl_key(char *dst, unsigned key_size, uint64_t i)
{
	dst[0] = 'k';
	for (unsigned p = key_size - 1; p >= 1; p--) {
		dst[p] = (char)('0' + i % 10);
		i /= 10;
	}
}

void mcl_value(char *dst, const struct mcl_conf *cf, uint64_t i)
{
	unsigned head = cf->key_size < cf->value_size ? cf->key_size : cf->value_size;
	char key[256];
	mcl_key(key, cf->key_size, i);
	memcpy(dst, key, head);
	memset(dst + head, 'a' + (int)(i % 26), cf->value_size - head);
}

static uint64_t mcl_rand(struct mcl_conn *c)
{
	/* xorshift64*: cheap and good enough to pick keys and the mix */
	uint64_t x = c->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static size_t mcl_req_max(const struct mcl_conf *cf)
{
	size_t get = 5 + (size_t)cf->mget * (cf->key_size + 1);
	size_t set = 32 + cf->key_size + cf->value_size;
	return get > set ? get : set;
}

int mcl_conn_init(struct mcl_conn *c, const struct mcl_conf *cf, int fd, unsigned id,
		  uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->id = id;
	c->rng = seed | 1;
	/* one line (VALUE key flags bytes) plus one value, twice over */
	c->in_cap = 2 * ((size_t)cf->key_size + cf->value_size + 128) + 16384;
	/* unsent requests plus those of a send not yet completed (io_uring) */
	c->out_cap = 2 * (size_t)cf->depth * mcl_req_max(cf) + 64;
	c->in = malloc(c->in_cap);
	c->out = malloc(c->out_cap);
	c->ring = calloc(cf->depth, sizeof(*c->ring));
	c->scratch = malloc((size_t)cf->value_size + 2);
	uint32_t *keys = calloc((size_t)cf->depth * cf->mget, sizeof(*keys));
	if (!c->in || !c->out || !c->ring || !c->scratch || !keys) {
		free(keys);
		mcl_conn_fini(c);
		return -1;
	}
	for (unsigned i = 0; i < cf->depth; i++)
		c->ring[i].keys = keys + (size_t)i * cf->mget;
	return 0;
}

void mcl_conn_fini(struct mcl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->ring)
		free(c->ring[0].keys);
	free(c->ring);
	free(c->in);
	free(c->out);
	free(c->scratch);
	c->ring = NULL;
	c->in = c->out = c->scratch = NULL;
}

void mcl_conn_compact_out(struct mcl_conn *c)
{
	memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
	c->out_len -= c->out_off;
	c->out_off = 0;
}

int mcl_conn_issue(struct mcl_conn *c, const struct mcl_conf *cf, uint64_t now_ns)
{
	if (c->inflight == cf->depth || c->out_len + mcl_req_max(cf) > c->out_cap)
		return -1;
	struct mcl_req *r = &c->ring[(c->head + c->inflight) % cf->depth];
	c->inflight++;
	r->sent_ns = now_ns;
	r->next = 0;
	char *p = c->out + c->out_len;
	r->is_set = mcl_rand(c) % 1000 < cf->set_per_mille;
	if (r->is_set) {
		r->nkeys = 1;
		r->keys[0] = (uint32_t)(mcl_rand(c) % cf->keys);
		memcpy(p, "set ", 4);
		p += 4;
		mcl_key(p, cf->key_size, r->keys[0]);
		p += cf->key_size;
		p += sprintf(p, " 0 0 %u\r\n", cf->value_size);
		mcl_value(p, cf, r->keys[0]);
		p += cf->value_size;
		memcpy(p, "\r\n", 2);
		p += 2;
	} else {
		r->nkeys = cf->mget;
		memcpy(p, "get", 3);
		p += 3;
		for (unsigned k = 0; k < cf->mget; k++) {
			r->keys[k] = (uint32_t)(mcl_rand(c) % cf->keys);
			*p++ = ' ';
			mcl_key(p, cf->key_size, r->keys[k]);
			p += cf->key_size;
		}
		memcpy(p, "\r\n", 2);
		p += 2;
	}
	c->out_len = (size_t)(p - c->out);
	return 0;
}

/* "VALUE <key> 0 <bytes>": which key of r it names (its slot), or -1. */
static int mcl_value_line(struct mcl_req *r, const struct mcl_conf *cf, const char *l, size_t len)
{
	if (len < 6 + cf->key_size + 4 || memcmp(l, "VALUE k", 7) != 0)
		return -1;
	const char *k = l + 6;
	uint64_t idx = 0;
	for (unsigned i = 1; i < cf->key_size; i++) {
		if (k[i] < '0' || k[i] > '9')
			return -1;
		idx = idx * 10 + (uint64_t)(k[i] - '0');
	}
	const char *rest = k + cf->key_size;
	size_t rest_len = len - 6 - cf->key_size;
	char want[32];
	int wl = snprintf(want, sizeof(want), " 0 %u", cf->value_size);
	if (rest_len != (size_t)wl || memcmp(rest, want, rest_len) != 0)
		return -1;
	for (unsigned s = r->next; s < r->nkeys; s++)
		if (r->keys[s] == idx)
			return (int)s;
	return -1;
}

static void mcl_complete(struct mcl_conn *c, const struct mcl_conf *cf, struct mcl_stats *st,
			 uint64_t now_ns, int counted)
{
	struct mcl_req *r = &c->ring[c->head];
	if (counted) {
		st->requests++;
		bench_hist_add(&st->lat, now_ns > r->sent_ns ? now_ns - r->sent_ns : 0);
		if (r->is_set)
			st->sets++;
		else
			st->gets++;
	}
	c->head = (c->head + 1) % cf->depth;
	c->inflight--;
}

int mcl_conn_parse(struct mcl_conn *c, const struct mcl_conf *cf, struct mcl_stats *st,
		   uint64_t now_ns, int counted)
{
	size_t pos = 0;
	int done = 0;
	const size_t line_max = (size_t)cf->key_size + 64;
	while (pos < c->in_len) {
		char *l = c->in + pos;
		size_t avail = c->in_len - pos;
		if (c->inflight == 0) {
			mcl_report(c, "reply to no request", l, avail);
			goto wrong;
		}
		struct mcl_req *r = &c->ring[c->head];
		if (c->value_left) {
			if (avail < c->value_left)
				break;
			if (memcmp(l, c->scratch, c->value_left) != 0) {
				mcl_report(c, "wrong value data", l, c->value_left);
				goto wrong;
			}
			pos += c->value_left;
			c->value_left = 0;
			if (counted)
				st->hits++;
			continue;
		}
		char *nl = memchr(l, '\n', avail < line_max ? avail : line_max);
		if (!nl) {
			if (avail >= line_max) {
				mcl_report(c, "reply line too long", l, avail);
				goto wrong;
			}
			break;
		}
		size_t len = (size_t)(nl - l);
		if (len == 0 || l[len - 1] != '\r') {
			mcl_report(c, "reply line without CRLF", l, len);
			goto wrong;
		}
		len--;
		pos += len + 2;
		if (r->is_set) {
			if (len != 6 || memcmp(l, "STORED", 6) != 0) {
				mcl_report(c, "wrong reply to a set", l, len);
				goto wrong;
			}
			mcl_complete(c, cf, st, now_ns, counted);
			done++;
		} else if (len == 3 && memcmp(l, "END", 3) == 0) {
			if (counted)
				st->misses += r->nkeys - r->next;
			mcl_complete(c, cf, st, now_ns, counted);
			done++;
		} else {
			int slot = mcl_value_line(r, cf, l, len);
			if (slot < 0) {
				mcl_report(c, "wrong reply to a get", l, len);
				goto wrong;
			}
			if (counted)
				st->misses += (unsigned)slot - r->next;
			r->next = (unsigned)slot + 1;
			mcl_value(c->scratch, cf, r->keys[slot]);
			memcpy(c->scratch + cf->value_size, "\r\n", 2);
			c->value_left = (size_t)cf->value_size + 2;
		}
	}
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	return done;
wrong:
	st->errors++;
	return -1;
}

int mcl_conn_refill(struct mcl_conn *c, const struct mcl_conf *cf, struct mcl_stats *st,
		    unsigned n, uint64_t now_ns)
{
	while (n--)
		if (mcl_conn_issue(c, cf, now_ns) != 0) {
			mcl_report(c, "no room for a request", "", 0);
			st->errors++;
			return -1;
		}
	return 0;
}
