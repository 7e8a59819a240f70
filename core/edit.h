/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/edit.h: the write engine behind every store of every namespace
 * (spc_store_key's modes, arith, touch's copy path). Private to core/.
 *
 * A caller describes an edit by a plan: given the live entry the key maps
 * to (or none), what the new entry is (value length, flags, expiry, cas),
 * or an error, or "done without publishing". The engine charges, allocates,
 * builds and publishes it atomically against every other write of the key
 * (a replace of the entry the plan saw, an add when it saw none, a set
 * for blind stores), retrying the read-plan-publish loop
 * when another write got there first. See core/edit.c.
 */
#ifndef SPC_CORE_EDIT_H
#define SPC_CORE_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/entry.h"
#include "core/key.h"
#include "splitcache.h"

/* A plan's answer: the edit is finished without publishing anything (the
 * engine then returns SPC_OK). Positive, so no status code collides. */
#define SPC_EDIT_DONE 1
/* A plan's answer: old left the index while the plan ran (a touch saw it
 * after storing in place); the engine reads the key again and calls the
 * plan anew. */
#define SPC_EDIT_RETRY 2

/* The new entry a plan asks for. The engine zeroes it before each plan. */
struct spc_edit {
	size_t vlen;     /* value bytes the fill writes */
	uint32_t flags;  /* stored only when nonzero (SPC_META_FLAGS) */
	uint64_t expiry; /* stored only when nonzero (SPC_META_EXPIRY) */
	uint64_t cas;    /* the new entry's cas; 0: a fresh one */
	int is_store;    /* counted in the inserts statistic (not touch) */
	int carry;       /* expiry is old's deadline, kept (incr/decr, append,
	                    prepend): the new entry has a slot when old has one,
	                    and a touch of old racing with the edit is carried
	                    over (core/edit.c) */
};

/* Decides the edit. old: the live entry of the key (found in the index, not
 * dead, not expired), NULL when there is none; its contents are acquired.
 * Fills *ed and returns SPC_OK to publish, SPC_EDIT_DONE, SPC_EDIT_RETRY,
 * or a negative status that the engine returns with the cache unchanged. Context: inside
 * the engine's read section; must not block or allocate; called again on
 * every retry, so it must depend only on old and its arg. */
typedef int spc_edit_plan_fn(void *arg, struct spc_entry *old, struct spc_edit *ed);

/* Writes the ed->vlen value bytes of the new entry at value. old is the
 * entry the plan that made ed was given. Context: the same read section. */
typedef void spc_edit_fill_fn(void *arg, const struct spc_entry *old, unsigned char *value);

/* Runs an edit of key k in pool. blind: do not look the key up; the plan
 * gets NULL and the entry replaces whatever is there (add_replace: a plain
 * set). guess (may be NULL): the plan's answer if it does not depend on
 * old, so the allocation happens before the first lookup, not after it.
 * *cas_out (may be NULL) receives the published entry's cas. Returns
 * SPC_OK, SPC_EFULL, SPC_EBUSY, SPC_ENOMEM or the plan's error; every
 * error leaves the cache unchanged (charge, allocation and ring cell given
 * back). Counts inserts, items, expirations (an expired entry replaced)
 * and refusals (efull, busy_ring, busy_batches). Context: any thread, not
 * in read section; k validated. */
int spc_edit_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, int blind,
                 spc_edit_plan_fn *plan, spc_edit_fill_fn *fill, void *arg,
                 const struct spc_edit *guess, uint64_t *cas_out);

#endif /* SPC_CORE_EDIT_H */
