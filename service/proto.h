/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/proto.h: the memcached text protocol and meta commands, as a pure
 * incremental parser and a set of reply writers.
 *
 * Nothing here touches a socket, a clock or the cache: the parser reads a
 * connection's input bytes and says what the client asked for (or which
 * error line memcached 1.6 would answer and what it would do next); the
 * reply writers append memcached's exact reply bytes to a caller-provided
 * growable buffer. No function keeps state between calls (docs/style.md 13), so
 * any number of connections and threads may use the module at once.
 *
 * The reference for every byte is memcached 1.6.18 (Debian); see
 * docs/protocol.md for the commands, the error lines and the few places we
 * differ.
 */
#ifndef SPC_PROTO_H
#define SPC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPC_PROTO_KEY_MAX 250         /* longest key, in bytes */
#define SPC_PROTO_OPAQUE_MAX 31       /* longest meta O token */
#define SPC_PROTO_META_TOKENS_MAX 19  /* meta line: command + key + flags */
#define SPC_PROTO_RELATIVE_MAX 2592000 /* exptime up to 30 days is relative */

/* ---- limits ------------------------------------------------------------- */

struct spc_proto_limits {
	/* A line without '\n' longer than this is answered by closing the
	 * connection, unless it is a get/gets line (memcached: 2048). */
	size_t line_max;
	/* A complete line longer than this is refused the same way: memcached
	 * never sees its end within one read buffer (memcached: 16384). */
	size_t read_max;
	/* get/gets lines may grow to this before the connection is closed
	 * (memcached: unbounded; we bound it). */
	size_t get_line_max;
	/* Item size limit (-I) and the per-item header memcached counts in it:
	 * a value is too large when key + value + item_overhead (+ 4 when the
	 * client flags are nonzero) > item_max. */
	size_t item_max;
	size_t item_overhead;
};

/* Fills *lim with memcached 1.6.18's defaults (2048, 16384, 1 MiB for
 * get lines, -I 1m, 59-byte header). Context: any thread. */
void spc_proto_limits_default(struct spc_proto_limits *lim);

/* ---- requests ----------------------------------------------------------- */

enum spc_proto_cmd {
	SPC_PROTO_NONE = 0,
	SPC_PROTO_GET, SPC_PROTO_GETS, SPC_PROTO_GAT, SPC_PROTO_GATS,
	SPC_PROTO_SET, SPC_PROTO_ADD, SPC_PROTO_REPLACE, SPC_PROTO_APPEND,
	SPC_PROTO_PREPEND, SPC_PROTO_CAS,
	SPC_PROTO_DELETE, SPC_PROTO_INCR, SPC_PROTO_DECR, SPC_PROTO_TOUCH,
	SPC_PROTO_FLUSH_ALL, SPC_PROTO_VERSION, SPC_PROTO_VERBOSITY,
	SPC_PROTO_STATS, SPC_PROTO_QUIT,
	SPC_PROTO_MG, SPC_PROTO_MS, SPC_PROTO_MD, SPC_PROTO_MA, SPC_PROTO_MN,
	SPC_PROTO_ME,
	SPC_PROTO_CACHE_MEMLIMIT, /* cache_memlimit <MiB> [noreply]: delta */
	SPC_PROTO_SPLIT_MODE      /* split_mode <mode> [<share>] [noreply]: keys */
};

enum spc_proto_status {
	SPC_PROTO_NEED_MORE = 0, /* no complete request yet: call again with more */
	SPC_PROTO_REQUEST = 1,   /* a complete request is in *req */
	SPC_PROTO_ERROR = 2      /* req->reply / req->action say what to do */
};

/* What memcached does after an error line. */
enum spc_proto_action {
	SPC_PROTO_CONTINUE = 0, /* parse the next request at buf + consumed */
	SPC_PROTO_SWALLOW = 1,  /* first discard req->swallow more input bytes */
	SPC_PROTO_CLOSE = 2     /* send the reply (if any), then close */
};

/* Meta flag letters as bits: 'a'..'z' are bits 0..25, 'A'..'Z' 26..51. */
#define SPC_PROTO_MF(c) \
	((c) >= 'a' && (c) <= 'z' ? UINT64_C(1) << ((c) - 'a') : UINT64_C(1) << ((c) - 'A' + 26))

struct spc_proto_meta {
	uint64_t seen;        /* SPC_PROTO_MF() bits of the flags present */
	char order[SPC_PROTO_META_TOKENS_MAX]; /* flag letters in request order */
	uint8_t norder;
	bool quiet;           /* q */
	bool base64;          /* b: req->key is the decoded key */
	const char *key_token; size_t key_token_len; /* the key as sent */
	const char *opaque; size_t opaque_len;       /* O token (may be empty) */
	uint64_t compare_cas; /* C */
	uint64_t new_cas;     /* E (extension over 1.6.18) */
	uint64_t delta;       /* D (ma; default 1) */
	uint64_t initial;     /* J (ma autovivify value; default 0) */
	uint32_t client_flags;/* F */
	int32_t ttl;          /* T */
	int32_t vivify_ttl;   /* N */
	int32_t recache_ttl;  /* R */
	char mode;            /* M: ms E A P R S (default S); ma I + D - (default I) */
};

/*
 * One parsed request, or one protocol error. All pointers point into the
 * caller's input buffer (or into keybuf) and stay valid while that buffer
 * is unchanged; nothing is allocated.
 */
struct spc_proto_req {
	enum spc_proto_cmd cmd;
	size_t consumed;      /* bytes of input used: line (+ data block) */
	bool noreply;         /* classic commands: trailing "noreply" */

	/* the key (first key of get/gets/gat/gats) */
	const char *key; size_t klen;
	/* get/gets/gat/gats: every key, separated by one or more spaces;
	 * iterate with spc_proto_next_key(). stats, split_mode: the
	 * arguments, raw (split_mode: without a trailing noreply). */
	const char *keys; size_t keys_len; uint32_t nkeys;

	uint32_t flags;       /* storage: client flags */
	int32_t exptime;      /* storage, touch, gat(s), flush_all delay */
	bool has_exptime;     /* flush_all: a delay was given */
	uint64_t cas;         /* cas: unique */
	uint64_t delta;       /* incr/decr; cache_memlimit: MiB */
	uint32_t verbosity;   /* verbosity level */
	const char *data; size_t bytes; /* storage, ms: the value (no \r\n) */

	struct spc_proto_meta meta;

	/* errors (status SPC_PROTO_ERROR) */
	const char *reply; size_t reply_len; /* exact line with \r\n; NULL: none */
	bool silent;          /* noreply: memcached sends nothing for it */
	enum spc_proto_action action;
	uint64_t swallow;     /* bytes to discard after consumed (SWALLOW) */
	bool too_large;       /* "object too large": req->cmd and the key are
	                         set (memcached then drops the old value of a
	                         set or ms) */

	char keybuf[SPC_PROTO_KEY_MAX]; /* decoded base64 key */
};

/*
 * Parses the first request in buf[0..len).
 * Returns SPC_PROTO_NEED_MORE (req->consumed is 0: keep the bytes, read
 * more), SPC_PROTO_REQUEST (req filled; the next request starts at
 * buf + req->consumed), or SPC_PROTO_ERROR (req->reply is memcached's exact
 * line unless NULL, req->silent says to suppress it, req->action and
 * req->swallow what to do next; req->consumed bytes are used up).
 * Guarantees (tested): consumed <= len; consumed > 0 unless NEED_MORE; for
 * input whose lines are all within lim->line_max, splitting the input into
 * pieces never changes the sequence of results.
 * Context: any thread; reads only buf[0..len) and *lim.
 * Ownership: req points into buf; nothing to free.
 */
enum spc_proto_status spc_proto_parse(const struct spc_proto_limits *lim,
				      const char *buf, size_t len,
				      struct spc_proto_req *req);

/* Walks the keys of a get-family request: *pos starts at 0. Returns true
 * and sets *key, *klen for the next key, false when there are no more.
 * Context: any thread. */
bool spc_proto_next_key(const struct spc_proto_req *req, size_t *pos,
			const char **key, size_t *klen);

/* True when a connection's first byte selects memcached's binary protocol
 * (0x80), which splitcached does not speak. Context: any thread. */
bool spc_proto_is_binary(const char *buf, size_t len);

/* The command's name ("get", "mg", ...); "?" for SPC_PROTO_NONE. */
const char *spc_proto_cmd_name(enum spc_proto_cmd cmd);

/*
 * memcached's exptime rule: 0 never expires (returns 0); negative means
 * already expired (returns -1); up to 30 days is relative to now; larger is
 * an absolute unix time (returns -1 when it is not after now).
 * Returns the absolute expiry time, 0 or -1. Context: any thread.
 */
int64_t spc_proto_exptime(int64_t exptime, int64_t now);

/* ---- replies ------------------------------------------------------------ */

/*
 * A growable output buffer owned by the caller. grow() must make cap at
 * least `need` (it may move data) and return 0, or return nonzero and
 * leave the buffer as it was. Every writer below returns 0 (SPC_OK), or
 * SPC_ENOMEM when grow() failed, in which case nothing was appended.
 */
struct spc_proto_out {
	char *data;
	size_t len, cap;
	int (*grow)(struct spc_proto_out *out, size_t need);
	void *arg;
};

/* A grow() over malloc/realloc; release with spc_proto_out_free(). */
int spc_proto_out_grow_malloc(struct spc_proto_out *out, size_t need);
void spc_proto_out_init_malloc(struct spc_proto_out *out);
void spc_proto_out_free(struct spc_proto_out *out);

/* Appends raw bytes. */
int spc_proto_put(struct spc_proto_out *out, const void *p, size_t n);
/* Appends a NUL-terminated string (no line end added). */
int spc_proto_puts(struct spc_proto_out *out, const char *s);

/* Fixed reply lines, \r\n included. */
extern const char SPC_PROTO_STORED[], SPC_PROTO_NOT_STORED[], SPC_PROTO_EXISTS[],
	SPC_PROTO_NOT_FOUND[], SPC_PROTO_DELETED[], SPC_PROTO_TOUCHED[], SPC_PROTO_OK[],
	SPC_PROTO_END[], SPC_PROTO_ERROR_LINE[], SPC_PROTO_RESET[];

/* The error reply of a failed parse, unless it is silent or has no line. */
int spc_proto_reply_error(struct spc_proto_out *out, const struct spc_proto_req *req);

/* "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n" (cas when with_cas). */
int spc_proto_reply_value(struct spc_proto_out *out, const char *key, size_t klen,
			  uint32_t flags, const void *data, size_t bytes,
			  bool with_cas, uint64_t cas);
/* "<value>\r\n": the incr/decr reply. */
int spc_proto_reply_number(struct spc_proto_out *out, uint64_t value);
/* "VERSION <version>\r\n". */
int spc_proto_reply_version(struct spc_proto_out *out, const char *version);
/* "STAT <name> <value>\r\n". */
int spc_proto_reply_stat(struct spc_proto_out *out, const char *name, const char *value);

/*
 * The line a classic command answers for a cache status from
 * include/splitcache.h (SPC_OK, SPC_ENOTFOUND, SPC_EEXISTS, SPC_EFULL,
 * SPC_ETOOBIG, SPC_ENOMEM, SPC_ENOTNUM, ...): e.g. add + SPC_EEXISTS gives
 * NOT_STORED, cas + SPC_EEXISTS gives EXISTS, SPC_EFULL and SPC_EBUSY
 * give "SERVER_ERROR out of memory storing object" (memcached's line for
 * a store it cannot take; the stats tell the causes apart). NULL for get-family, incr/
 * decr + SPC_OK (a number is the reply) and commands without a fixed line.
 * Context: any thread. Ownership: static string.
 */
const char *spc_proto_status_line(enum spc_proto_cmd cmd, int status);

/* Values a meta reply may return; `have` says which are known. */
#define SPC_PROTO_MV_FLAGS 0x01u /* f */
#define SPC_PROTO_MV_TTL 0x02u   /* t: -1 = never */
#define SPC_PROTO_MV_CAS 0x04u   /* c */
#define SPC_PROTO_MV_SIZE 0x08u  /* s */
#define SPC_PROTO_MV_HIT 0x10u   /* h: 0 or 1 */
#define SPC_PROTO_MV_LAST 0x20u  /* l: seconds since last access */
#define SPC_PROTO_MV_KEY 0x40u   /* k: the stored key (else the request's) */

struct spc_proto_meta_vals {
	unsigned have;
	uint32_t flags;
	int64_t ttl;
	uint64_t cas;
	uint64_t size;
	unsigned hit;
	uint64_t last;
	const char *key; size_t klen; bool key_base64; /* with MV_KEY */
	const char *tail; /* extra bare flags, e.g. "W" or "W Z"; may be NULL */
};

/* The status code of a meta reply. */
enum spc_proto_meta_code {
	SPC_PROTO_HD, SPC_PROTO_VA, SPC_PROTO_EN, SPC_PROTO_NF, SPC_PROTO_NS,
	SPC_PROTO_EX
};

/* True when the request's q flag hides this code (mg: EN; ms, md, ma: HD). */
bool spc_proto_meta_quiet(const struct spc_proto_req *req, enum spc_proto_meta_code code);

/*
 * Writes a meta reply: the code, for VA the value's length, then the
 * return flags the request asked for, in its order: f t c s h l from *v
 * (when known), k (v's key when MV_KEY, else the request's key; base64
 * keys are sent re-encoded, followed by " b"), O (the request's opaque). Then
 * v->tail, "\r\n", and for VA the value and "\r\n". Writes nothing when
 * spc_proto_meta_quiet() says so. v may be NULL (nothing known).
 * Returns 0 or SPC_ENOMEM (nothing appended).
 */
int spc_proto_meta_reply(struct spc_proto_out *out, const struct spc_proto_req *req,
			 enum spc_proto_meta_code code, const struct spc_proto_meta_vals *v,
			 const void *value, size_t vlen);

/* "MN\r\n". */
int spc_proto_reply_mn(struct spc_proto_out *out);

/* Encodes src as base64 into dst (room for 4 * ((n + 2) / 3) bytes);
 * returns the length written. Context: any thread. */
size_t spc_proto_base64_encode(const void *src, size_t n, char *dst);

#ifdef __cplusplus
}
#endif

#endif /* SPC_PROTO_H */
