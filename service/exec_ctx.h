/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/exec_ctx.h: what a command runs with: the connection's context,
 * what it tells the connection to do next, and the request's addressed
 * key. Types and one inline helper (no .c of its own), shared by conn.c
 * and the command files (exec.c, exec_meta.c, exec_stats.c).
 */
#ifndef SPC_SRV_EXEC_CTX_H
#define SPC_SRV_EXEC_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service/proto.h"
#include "service/store.h"
#include "splitcache.h"

struct spc_server;
struct spc_srv_counters;

/* What exec does with a request. */
enum spc_srv_exec {
	SPC_SRV_DONE = 0,  /* reply written; the request is consumed */
	SPC_SRV_SUSPEND,   /* a get reply is partly written: call again when the
	                      output drained (cursor kept in the context) */
	SPC_SRV_CLOSE      /* close the connection after flushing the output */
};

/* The per-connection state exec needs. */
struct spc_srv_ctx {
	struct spc_server *srv;
	struct spc_srv_counters *cnt;
	enum spc_pool_id pool;          /* the listener's pool */
	struct spc_proto_out *out;
	size_t out_soft;                /* suspend a get reply past this */
	size_t get_pos;                 /* next key of a suspended get */
	bool get_started;
	uint64_t now;
};

/* The addressed key of a request's key on the context's listener: the
 * parser decoded its "@<height>/" prefix (req->at), the listener's pool
 * says whether it counts (spc_srv_key_of). Context: the connection's
 * worker. Ownership: out points into req. */
static inline void spc_srv_req_key(const struct spc_srv_ctx *ctx, const struct spc_proto_req *req,
				   struct spc_srv_key *out)
{
	spc_srv_key_of(ctx->pool, req->key, req->klen, req->at, req->height, req->at_len, out);
}

#endif /* SPC_SRV_EXEC_CTX_H */
