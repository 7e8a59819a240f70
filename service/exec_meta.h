/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec_meta.h: the meta commands mg ms md ma mn me (exec_meta.c).
 */
#ifndef SPC_SRV_EXEC_META_H
#define SPC_SRV_EXEC_META_H

#include "service/exec_ctx.h"

/* Executes one meta command, appending its reply to ctx->out. Same
 * contract as spc_srv_exec (exec.h). */
enum spc_srv_exec spc_srv_exec_meta(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);

#endif /* SPC_SRV_EXEC_META_H */
