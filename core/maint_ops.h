/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/maint_ops.h: the policy's callbacks on struct spc_entry
 * (core/maint_ops.c), for the pool's maintainer (core/maint.c). Private
 * to core/.
 */
#ifndef SPC_CORE_MAINT_OPS_H
#define SPC_CORE_MAINT_OPS_H

#include "core/entry.h"
#include "core/policy.h"

/* The callbacks; ctx is left NULL: the maintainer sets it to its pool
 * (struct spc_pstate) in its copy. Context: the pool's maintainer. */
extern const struct spc_policy_ops spc_entry_ops;

/* The dead flag alone (acquire, as spc_entry_ops.dead: pairs with the
 * release in spc_note_unpublished, so once the maintainer sees the flag,
 * the unpublisher's accounting is done). Context: the maintainer. */
static inline int spc_op_dead_flag(const struct spc_entry *e)
{
	return (__atomic_load_n(&e->meta, __ATOMIC_ACQUIRE) & SPC_META_DEAD) != 0;
}

#endif /* SPC_CORE_MAINT_OPS_H */
