/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec.h: one request executed (exec.c): the classic text
 * commands here, the meta commands and stats handed to exec_meta.c and
 * exec_stats.c.
 */
#ifndef SPC_SRV_EXEC_H
#define SPC_SRV_EXEC_H

#include "service/exec_ctx.h"

/* Executes one parsed request, appending its reply to ctx->out.
 * Returns SPC_SRV_DONE, SPC_SRV_SUSPEND or SPC_SRV_CLOSE (quit, or the
 * output cap refused the reply). Context: the connection's worker. */
enum spc_srv_exec spc_srv_exec(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);
/* A request the parser refused (exec.c): its error line, and what
 * memcached does besides: a set or ms too large drops the old value.
 * Same contract as spc_srv_exec. */
enum spc_srv_exec spc_srv_exec_error(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);

#endif /* SPC_SRV_EXEC_H */
