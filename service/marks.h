/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/marks.h: what memcached keeps in an item's header and the cache
 * does not -- fetched, last access, stale, win token sent, key sent in
 * base64 -- for the meta commands (h l X W Z, k ... b, me).
 *
 * A fixed table indexed by the item's cas. Every store gives an item a
 * new cas from one counter, so the table holds the marks of the most
 * recently written items; an older item whose slot was taken reads as
 * unknown (never fetched, not stale, no token sent), and so does every
 * item under -C (cas 0).
 */
#ifndef SPC_SRV_MARKS_H
#define SPC_SRV_MARKS_H

#include <stdbool.h>
#include <stdint.h>

#define SPC_SRV_MARK_FETCHED 0x1u /* read by a get, gat, touch or mg */
#define SPC_SRV_MARK_STALE 0x2u   /* md I, or ms I with an older cas */
#define SPC_SRV_MARK_WON 0x4u     /* a client was sent the win token (W) */
#define SPC_SRV_MARK_KEY_B64 0x8u /* stored by ms with b: k echoes base64 */

/* Slots of the table (1 MiB of 8-byte slots). */
#define SPC_SRV_MARKS_BITS 17

struct spc_srv_marks {
	uint64_t *slot; /* atomic words: tag | marks | last access */
};

/* What the table knows of one item. */
struct spc_srv_mark {
	unsigned marks; /* SPC_SRV_MARK_* */
	uint64_t atime; /* last access (memcached's rule: stores, and reads
	                   at most once a minute), unix seconds */
};

/* Allocates the table. Returns SPC_OK or SPC_ENOMEM.
 * Context: once, before any other call. Ownership: spc_srv_marks_fini. */
int spc_srv_marks_init(struct spc_srv_marks *t);
/* Frees the table. Context: no other call running. */
void spc_srv_marks_fini(struct spc_srv_marks *t);

/* The marks of the item with this cas. Returns false (and *out zeroed)
 * when the table does not know it. Context: any thread. */
bool spc_srv_marks_get(const struct spc_srv_marks *t, uint64_t cas, struct spc_srv_mark *out);

/* A new item with this cas was written at `now` with `marks`; replaces
 * what an older item held in the slot (never a newer one's).
 * Context: any thread. */
void spc_srv_marks_put(struct spc_srv_marks *t, uint64_t cas, unsigned marks, uint64_t atime);

/* A read of the item at `now`: sets FETCHED and moves the last access
 * when it is a minute old or more. An item the table does not know gets
 * a slot (FETCHED, now). Context: any thread. */
void spc_srv_marks_fetch(struct spc_srv_marks *t, uint64_t cas, uint64_t now);

/* Claims the win token of the item: sets WON. Returns true for the one
 * caller that set it, false when it was already set. An unknown item is
 * entered with WON and atime `now`; one whose slot a newer item holds
 * cannot be tracked, and every caller wins. Context: any thread. */
bool spc_srv_marks_claim(struct spc_srv_marks *t, uint64_t cas, uint64_t now);

#endif /* SPC_SRV_MARKS_H */
