/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/proto_int.h: proto_tok.c's pieces that both parsers (proto.c,
 * proto_meta.c) and the reply writers use; private to the protocol module
 * (nothing outside service/proto*.c includes it).
 */
#ifndef SPC_PROTO_INT_H
#define SPC_PROTO_INT_H

#include "service/proto.h"

/* Tokens kept per line; the rest of a get line is walked, not stored. */
#define SPC_PROTO_TOKENS 24

struct spc_proto_tok {
	const char *p;
	size_t n;
};

struct spc_proto_line {
	struct spc_proto_tok tok[SPC_PROTO_TOKENS];
	size_t ntok;      /* every token of the line, stored or not */
	const char *end;  /* end of the line (before "\r\n" or "\n") */
	size_t consumed;  /* line length with its terminator */
};

/* Fills req as an error: static line `reply` (NULL: none), action. */
enum spc_proto_status spc_proto_fail(struct spc_proto_req *req, const char *reply,
				     enum spc_proto_action action);

/* memcached's numeric token rules (see the essay in proto.c). */
bool spc_proto_num_u64(const struct spc_proto_tok *t, uint64_t *out);
bool spc_proto_num_i64(const struct spc_proto_tok *t, int64_t *out);

/* Token equals the C string s, byte for byte. */
bool spc_proto_tok_is(const struct spc_proto_tok *t, const char *s);

/* The data block of ms / storage commands: NEED_MORE, REQUEST or ERROR. */
enum spc_proto_status spc_proto_data_block(const struct spc_proto_limits *lim,
					   const char *buf, size_t len,
					   struct spc_proto_req *req, bool silent_errors);

/* Parses mg, ms, md, ma, mn, me from a tokenized line. */
enum spc_proto_status spc_proto_parse_meta(const struct spc_proto_limits *lim,
					   const char *buf, size_t len,
					   const struct spc_proto_line *line,
					   struct spc_proto_req *req);

/* Error lines shared by both files. */
extern const char spc_proto_e_format[];
extern const char spc_proto_e_error[];
extern const char spc_proto_e_too_large[];

#endif /* SPC_PROTO_INT_H */
