/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec_stats.h: the stats command (exec_stats.c).
 */
#ifndef SPC_SRV_EXEC_STATS_H
#define SPC_SRV_EXEC_STATS_H

#include "service/exec_ctx.h"

/* stats [args]: appends the statistics to ctx->out. Same contract as
 * spc_srv_exec (exec.h). */
enum spc_srv_exec spc_srv_exec_stats(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);

#endif /* SPC_SRV_EXEC_STATS_H */
