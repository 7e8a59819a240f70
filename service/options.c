/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/options.c: splitcached's command line -- memcached 1.6's, plus
 * the options of its own.
 *
 * memcached parses with getopt_long, so we do too: "-p11211", "-p 11211",
 * "--port=11211", "--port 11211", bundled letters ("-vvv", "-dC") and
 * unique prefixes of long names behave as they do for memcached. Every
 * option of `memcached -h` (1.6.18) has a row in the table below and is
 * either taken with memcached's meaning or refused by name, with the
 * reason, and exit status 64 (EX_USAGE, memcached's status for a usage
 * error). Every -o sub-option is handled the same way. docs/service.md
 * has the whole mapping.
 *
 * Listeners: with none of -p, -l, -s, --index-listen, --view-listen the
 * service listens as `make run` shows (index pool on 11211, view pool on
 * 11212). Any of memcached's -p, -l or -s makes it a memcached-style
 * invocation: one listener (the index pool's) built from them, and the
 * view listener off unless --view-listen asks for it. A pool without a
 * listener gets no memory: with the view listener off the mode is
 * "indexer" (the whole budget goes to the index pool) unless --mode says
 * otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service/cli.h"
#include "service/server.h"

#define EX_USAGE_CODE 64 /* sysexits.h EX_USAGE, as memcached */
#define DEFAULT_PORT 11211
#define DEFAULT_VIEW_LISTEN "127.0.0.1:11212"
#define DEFAULT_HOST "127.0.0.1"
#define ITEM_MIN 1024                 /* memcached's -I bounds */
#define ITEM_MAX (1024u << 20)
#define THREADS_MAX 256

static const char usage[] =
	"usage: splitcached [options]   (memcached 1.6's options, and these)\n"
	"  -p, --port=N          TCP port of the index pool (default 11211; 0: no TCP)\n"
	"  -l, --listen=ADDR     interface to listen on (default 127.0.0.1)\n"
	"  -s, --unix-socket=F   UNIX socket instead of TCP; -a, --unix-mask=MASK (0700)\n"
	"  -U, --udp-port=0      UDP is not served: only 0 is accepted\n"
	"  -m, --memory-limit=N  memory budget (plain number: MiB; 512M, 2G; default: detect)\n"
	"  -c, --conn-limit=N    most connections at once (default 1024)\n"
	"  -t, --threads=N       worker threads (default 4)\n"
	"  -I, --max-item-size=S item size limit (default 1m, 1k..1024m)\n"
	"  -C, --disable-cas     no cas: gets answers cas 0, cas stores answer EXISTS\n"
	"  -M, --disable-evictions  refuse stores when memory is full instead of evicting\n"
	"  -F, --disable-flush-all  flush_all answers CLIENT_ERROR\n"
	"  -Y, --auth-file=F     ASCII authentication (user:pass lines)\n"
	"  -u, --user=NAME       run as NAME (when started as root)\n"
	"  -d, --daemon          run in the background; -P, --pidfile=F writes the pid\n"
	"  -k, --lock-memory     lock the memory (mlockall)\n"
	"  -L, --enable-largepages  commit the pools up front (prefault)\n"
	"  -r, --enable-coredumps   raise the core file limit\n"
	"  -R, --max-reqs-per-event=N  reads per wakeup of a connection (default 20)\n"
	"  -b, --listen-backlog=N   listen backlog (default 1024)\n"
	"  -B, --protocol=P      ascii or auto (binary is not served)\n"
	"  -o, --extended=LIST   idle_timeout=S, maxconns_fast, hash_algorithm=xxh3, modern\n"
	"  -v, -vv, -vvv         more log\n"
	"  -V, --version  -h, --help  -i, --license\n"
	"splitcached's own:\n"
	"  --index-listen ADDR   index pool listener (host:port, [v6]:port, unix:/path, none)\n"
	"  --view-listen ADDR    view pool listener (default " DEFAULT_VIEW_LISTEN
	" unless -p/-l/-s)\n"
	"  --port-file FILE      write the bound addresses there once listening\n"
	"  --idle-timeout S      close connections idle for S seconds (default 0: never)\n"
	"  --max-line N          longest request line (default 2048)\n"
	"  --max-output SIZE     pending output per connection before it is closed (8M)\n"
	"  --mode M              indexer, view or split\n"
	"  --view-share F        view pool share in split mode (default 0.5)\n"
	"  --hash-seed N         fixed hash seed (default: random per process)\n"
	"  --full-wait-ms N      how long a store waits for room before it is refused (100)\n"
	"  --allow-remote        allow non-loopback listen addresses\n"
	"docs/service.md maps every memcached option.\n";

/* Long-only options of our own. */
enum {
	OPT_INDEX_LISTEN = 256, OPT_VIEW_LISTEN, OPT_PORT_FILE, OPT_IDLE_TIMEOUT,
	OPT_MAX_LINE, OPT_MAX_OUTPUT, OPT_MODE, OPT_VIEW_SHARE, OPT_ALLOW_REMOTE,
	OPT_HASH_SEED, OPT_FULL_WAIT
};

static const struct option longopts[] = {
	/* memcached 1.6.18 */
	{ "port", required_argument, NULL, 'p' },
	{ "udp-port", required_argument, NULL, 'U' },
	{ "unix-socket", required_argument, NULL, 's' },
	{ "unix-mask", required_argument, NULL, 'a' },
	{ "enable-shutdown", no_argument, NULL, 'A' },
	{ "listen", required_argument, NULL, 'l' },
	{ "daemon", no_argument, NULL, 'd' },
	{ "enable-coredumps", no_argument, NULL, 'r' },
	{ "user", required_argument, NULL, 'u' },
	{ "memory-limit", required_argument, NULL, 'm' },
	{ "disable-evictions", no_argument, NULL, 'M' },
	{ "conn-limit", required_argument, NULL, 'c' },
	{ "lock-memory", no_argument, NULL, 'k' },
	{ "verbose", optional_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "license", no_argument, NULL, 'i' },
	{ "version", no_argument, NULL, 'V' },
	{ "pidfile", required_argument, NULL, 'P' },
	{ "slab-growth-factor", required_argument, NULL, 'f' },
	{ "slab-min-size", required_argument, NULL, 'n' },
	{ "enable-largepages", no_argument, NULL, 'L' },
	{ "threads", required_argument, NULL, 't' },
	{ "max-reqs-per-event", required_argument, NULL, 'R' },
	{ "disable-cas", no_argument, NULL, 'C' },
	{ "listen-backlog", required_argument, NULL, 'b' },
	{ "protocol", required_argument, NULL, 'B' },
	{ "max-item-size", required_argument, NULL, 'I' },
	{ "enable-sasl", no_argument, NULL, 'S' },
	{ "disable-flush-all", no_argument, NULL, 'F' },
	{ "disable-dumping", no_argument, NULL, 'X' },
	{ "disable-watch", no_argument, NULL, 'W' },
	{ "auth-file", required_argument, NULL, 'Y' },
	{ "memory-file", required_argument, NULL, 'e' },
	{ "enable-ssl", no_argument, NULL, 'Z' },
	{ "extended", required_argument, NULL, 'o' },
	{ "napi_ids", required_argument, NULL, 'N' },
	/* earlier splitcached spellings */
	{ "memory", required_argument, NULL, 'm' },
	{ "max-conns", required_argument, NULL, 'c' },
	{ "max-item", required_argument, NULL, 'I' },
	/* splitcached's own */
	{ "index-listen", required_argument, NULL, OPT_INDEX_LISTEN },
	{ "view-listen", required_argument, NULL, OPT_VIEW_LISTEN },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "max-output", required_argument, NULL, OPT_MAX_OUTPUT },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "view-share", required_argument, NULL, OPT_VIEW_SHARE },
	{ "allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE },
	{ "hash-seed", required_argument, NULL, OPT_HASH_SEED },
	{ "full-wait-ms", required_argument, NULL, OPT_FULL_WAIT },
	{ NULL, 0, NULL, 0 }
};

static const char shortopts[] = ":p:U:s:a:Al:dru:m:Mc:kvhiVP:f:n:LD:t:R:Cb:B:I:SFXWY:e:Zo:N:";

/* memcached's options that have no meaning here, and why. */
static const struct refusal {
	int opt;
	const char *name, *why;
} refusals[] = {
	{ 'A', "-A (--enable-shutdown)", "there is no shutdown command: stop the service with SIGTERM" },
	{ 'f', "-f (--slab-growth-factor)", "there are no slab classes: items take their exact size" },
	{ 'n', "-n (--slab-min-size)", "there are no slab classes: items take their exact size" },
	{ 'D', "-D (per-prefix stats delimiter)", "no per-prefix stats over the protocol (the library's debug mode reports key prefixes)" },
	{ 'S', "-S (--enable-sasl)", "SASL belongs to the binary protocol, which is not served (-Y gives ASCII authentication)" },
	{ 'e', "-e (--memory-file)", "no restartable cache: the pools live in anonymous memory" },
	{ 'Z', "-Z (--enable-ssl)", "TLS is not served: put a TLS proxy in front" },
	{ 'N', "-N (--napi_ids)", "no NAPI-id thread steering: connections go to the least loaded worker" },
};

static int usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "splitcached: ");
	fprintf(stderr, fmt, a, b ? b : "");
	fprintf(stderr, " (try --help)\n");
	return EX_USAGE_CODE;
}

static bool parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end = NULL;

	if (!v || !*v || *v == '-' || *v == '+')
		return false;
	errno = 0;
	*out = strtoull(v, &end, 0);
	return !errno && end && !*end && *out <= max;
}

/* -m: a plain number is MiB (memcached), else spc_parse_size. */
static bool parse_budget(const char *v, uint64_t *out)
{
	unsigned long long mib;

	if (parse_uint(v, UINT64_MAX >> 20, &mib)) {
		*out = (uint64_t)mib << 20;
		return mib > 0;
	}
	return spc_parse_size(v, out) == SPC_OK && *out > 0;
}

static bool copy_addr(char *dst, size_t cap, const char *v)
{
	if (!v || !*v || strlen(v) >= cap)
		return false;
	snprintf(dst, cap, "%s", v);
	return true;
}

/* One -o sub-option (NAME or NAME=VALUE). */
static int extended_one(char *item, struct spc_srv_options *o)
{
	static const char *const no_meaning[] = {
		"no_maxconns_fast", "hashpower", "tail_repair_time", "no_lru_crawler",
		"lru_crawler", "lru_crawler_sleep", "lru_crawler_tocrawl", "read_buf_mem_limit",
		"no_lru_maintainer", "lru_maintainer", "hot_lru_pct", "warm_lru_pct",
		"hot_max_factor", "warm_max_factor", "temporary_ttl", "slab_chunk_max",
		"slab_reassign", "slab_automove", "slab_automove_ratio", "slab_automove_window",
		"slab_automove_freeratio", "watcher_logbuf_size", "worker_logbuf_size",
		"track_sizes", "no_hashexpand", "no_modern", "sock_cookie_id", "inline_ascii_response",
		"no_inline_ascii_response", "lru_segmented", "no_lru_segmented", "drop_privileges",
		"no_drop_privileges", "ext_", "ssl_", "proxy_", "resp_obj_mem_limit",
		"large_memory_pages", "no_chunked_items", "ext_path",
	};
	char *val = strchr(item, '=');
	unsigned long long n;
	size_t i;

	if (val)
		*val++ = '\0';
	if (!strcmp(item, "idle_timeout")) {
		if (!parse_uint(val, UINT32_MAX, &n))
			return usage_error("-o idle_timeout needs a number of seconds%s%s", "", NULL);
		o->idle_timeout_s = (unsigned)n;
		return 0;
	}
	if (!strcmp(item, "maxconns_fast") || !strcmp(item, "modern"))
		return 0; /* what this service always does */
	if (!strcmp(item, "hash_algorithm")) {
		if (val && !strcmp(val, "xxh3"))
			return 0;
		return usage_error("-o hash_algorithm=%s is not supported: keys are hashed with "
				   "seeded XXH3 only (hash_algorithm=xxh3)%s", val ? val : "", NULL);
	}
	for (i = 0; i < sizeof no_meaning / sizeof no_meaning[0]; i++) {
		size_t l = strlen(no_meaning[i]);

		if (no_meaning[i][l - 1] == '_' ? !strncmp(item, no_meaning[i], l)
						  : !strcmp(item, no_meaning[i]))
			return usage_error("-o %s is not supported: it tunes memcached's slabs, LRU "
					   "threads, extstore, TLS or proxy, which this service does not "
					   "have%s", item, NULL);
	}
	return usage_error("-o %s: unknown extended option%s", item, NULL);
}

static int extended(const char *list, struct spc_srv_options *o)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return usage_error("out of memory%s%s", "", NULL);
	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
		rc = extended_one(tok, o);
	free(copy);
	return rc;
}

/* memcached's listener options into the index pool's address. */
struct memc_listen {
	bool any;            /* -p, -l or -s given */
	unsigned long long port;
	const char *host;    /* -l */
	const char *unix_path;
};

static int memc_index_addr(const struct memc_listen *m, struct spc_srv_options *o)
{
	const char *h = m->host ? m->host : DEFAULT_HOST;
	const char *colon = strchr(h, ':');
	bool v6 = colon && strchr(colon + 1, ':') && h[0] != '[';
	int n;

	if (m->unix_path)
		n = snprintf(o->index_listen, sizeof o->index_listen, "unix:%s", m->unix_path);
	else if ((h[0] == '[' && strstr(h, "]:")) || (colon && !v6 && h[0] != '['))
		n = snprintf(o->index_listen, sizeof o->index_listen, "%s", h); /* has a port */
	else if (m->port == 0)
		n = snprintf(o->index_listen, sizeof o->index_listen, "none"); /* -p 0: no TCP */
	else
		n = snprintf(o->index_listen, sizeof o->index_listen, v6 ? "[%s]:%llu" : "%s:%llu",
			     h, m->port);
	if (n < 0 || (size_t)n >= sizeof o->index_listen)
		return usage_error("-l/-s address too long: %s%s", h, NULL);
	return 0;
}

/* After parsing: the listeners and the mode (see the top of the file). */
static int settle(const struct memc_listen *m, bool index_set, bool view_set,
		  struct spc_srv_options *o)
{
	if (m->any && index_set)
		return usage_error("use either -p/-l/-s or --index-listen, not both%s%s", "", NULL);
	if (m->any) {
		int rc = memc_index_addr(m, o);

		if (rc)
			return rc;
		if (!view_set)
			snprintf(o->view_listen, sizeof o->view_listen, "none");
	}
	if (!o->mode_set) {
		bool index_off = !strcmp(o->index_listen, "none");
		bool view_off = !strcmp(o->view_listen, "none");

		o->mode = view_off && !index_off ? SPC_MODE_INDEXER
			  : index_off && !view_off ? SPC_MODE_VIEW : SPC_MODE_SPLIT;
	}
	return 0;
}

static int refuse(int opt)
{
	size_t i;

	for (i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
		if (refusals[i].opt == opt) {
			fprintf(stderr, "splitcached: %s is not supported: %s\n", refusals[i].name,
				refusals[i].why);
			return EX_USAGE_CODE;
		}
	return usage_error("unknown option -%s%s", (const char[]){ (char)opt, 0 }, NULL);
}

void spc_srv_options_default(struct spc_srv_options *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->index_listen, sizeof o->index_listen, "%s:%u", DEFAULT_HOST, DEFAULT_PORT);
	snprintf(o->view_listen, sizeof o->view_listen, "%s", DEFAULT_VIEW_LISTEN);
	o->max_conns = 1024;
	o->item_max = 1u << 20;
	o->threads = 4;
	o->line_max = 2048;
	o->out_max = 8u << 20;
	o->mode = SPC_MODE_SPLIT;
	o->view_share = 0.5;
	o->unix_mask = 0700;
	o->backlog = 1024;
	o->reads_per_event = 20;
	o->full_wait_ms = 100;
}

/* One option of memcached's with a value or a flag. Returns 0, or the
 * exit status. */
static int memc_option(int c, const char *v, struct spc_srv_options *o, struct memc_listen *m)
{
	unsigned long long n;
	uint64_t sz;

	switch (c) {
	case 'p':
		if (!parse_uint(v, 65535, &n))
			return usage_error("-p is not a port: %s%s", v, NULL);
		m->port = n;
		m->any = true;
		return 0;
	case 'l':
		if (!v || !*v)
			return usage_error("-l needs an address%s%s", "", NULL);
		if (strchr(v, ','))
			return usage_error("-l %s: several listen addresses are not supported: give "
					   "one%s", v, NULL);
		m->host = v;
		m->any = true;
		return 0;
	case 's':
		if (!v || !*v)
			return usage_error("-s needs a file name%s%s", "", NULL);
		m->unix_path = v;
		m->any = true;
		return 0;
	case 'a':
		if (!v || !*v || strspn(v, "01234567") != strlen(v) || strlen(v) > 4 ||
		    strtoul(v, NULL, 8) > 0777)
			return usage_error("-a is not an octal mask: %s%s", v, NULL);
		o->unix_mask = (unsigned)strtoul(v, NULL, 8);
		return 0;
	case 'U':
		if (!parse_uint(v, 65535, &n))
			return usage_error("-U is not a port: %s%s", v, NULL);
		if (n != 0) {
			fprintf(stderr, "splitcached: -U %s is not supported: UDP is not served "
				"(memcached 1.6 has it off by default too); use -U 0 or leave it out\n", v);
			return EX_USAGE_CODE;
		}
		return 0;
	case 'm':
		if (!parse_budget(v, &o->budget))
			return usage_error("-m is not a size: %s%s", v, NULL);
		return 0;
	case 'c':
		if (!parse_uint(v, UINT32_MAX, &n) || n == 0)
			return usage_error("-c is not a positive number: %s%s", v, NULL);
		o->max_conns = (unsigned)n;
		return 0;
	case 't':
		if (!parse_uint(v, THREADS_MAX, &n) || n == 0)
			return usage_error("-t must be 1..256: %s%s", v, NULL);
		o->threads = (unsigned)n;
		return 0;
	case 'I':
		if (spc_parse_size(v, &sz) != SPC_OK || sz < ITEM_MIN || sz > ITEM_MAX)
			return usage_error("-I must be a size from 1k to 1024m: %s%s", v, NULL);
		o->item_max = (size_t)sz;
		return 0;
	case 'R':
		if (!parse_uint(v, 1u << 20, &n) || n == 0)
			return usage_error("-R must be a positive number: %s%s", v, NULL);
		o->reads_per_event = (unsigned)n;
		return 0;
	case 'b':
		if (!parse_uint(v, 1u << 20, &n) || n == 0)
			return usage_error("-b must be a positive number: %s%s", v, NULL);
		o->backlog = (unsigned)n;
		return 0;
	case 'B':
		if (v && (!strcmp(v, "ascii") || !strcmp(v, "auto")))
			return 0;
		if (v && !strcmp(v, "binary")) {
			fprintf(stderr, "splitcached: -B binary is not supported: the binary protocol "
				"is not served (memcached deprecated it); use -B ascii or auto\n");
			return EX_USAGE_CODE;
		}
		return usage_error("-B must be ascii, auto or binary: %s%s", v ? v : "", NULL);
	case 'P':
		if (!v || !*v)
			return usage_error("-P needs a file name%s%s", "", NULL);
		o->pid_file = v;
		return 0;
	case 'u':
		if (!v || !*v)
			return usage_error("-u needs a user name%s%s", "", NULL);
		o->user = v;
		return 0;
	case 'Y':
		if (!v || !*v)
			return usage_error("-Y needs a file name%s%s", "", NULL);
		o->auth_file = v;
		return 0;
	case 'o':
		return extended(v ? v : "", o);
	case 'd': o->daemon = true; return 0;
	case 'r': o->core_dumps = true; return 0;
	case 'M': o->no_evict = true; return 0;
	case 'k': o->lock_memory = true; return 0;
	case 'L': o->prefault = true; return 0;
	case 'C': o->no_cas = true; return 0;
	case 'F': o->no_flush = true; return 0;
	case 'X': case 'W': return 0; /* no cachedump, metadump or watch: already off */
	default:
		return refuse(c);
	}
}

/* Our own long options. */
static int own_option(int c, const char *v, struct spc_srv_options *o, bool *index_set,
		      bool *view_set)
{
	unsigned long long n;
	uint64_t sz;

	switch (c) {
	case OPT_INDEX_LISTEN:
		if (!copy_addr(o->index_listen, sizeof o->index_listen, v))
			return usage_error("--index-listen needs an address: %s%s", v, NULL);
		*index_set = true;
		return 0;
	case OPT_VIEW_LISTEN:
		if (!copy_addr(o->view_listen, sizeof o->view_listen, v))
			return usage_error("--view-listen needs an address: %s%s", v, NULL);
		*view_set = true;
		return 0;
	case OPT_PORT_FILE:
		if (!v || !*v)
			return usage_error("--port-file needs a file name%s%s", "", NULL);
		o->port_file = v;
		return 0;
	case OPT_IDLE_TIMEOUT:
		if (!parse_uint(v, UINT32_MAX, &n))
			return usage_error("--idle-timeout is not a number of seconds: %s%s", v, NULL);
		o->idle_timeout_s = (unsigned)n;
		return 0;
	case OPT_MAX_LINE:
		if (!parse_uint(v, 1u << 20, &n) || n < SPC_PROTO_KEY_MAX + 16)
			return usage_error("--max-line must be 266..1048576: %s%s", v, NULL);
		o->line_max = (size_t)n;
		return 0;
	case OPT_MAX_OUTPUT:
		if (spc_parse_size(v, &sz) != SPC_OK || sz == 0 || sz > SIZE_MAX / 4)
			return usage_error("--max-output is not a size: %s%s", v, NULL);
		o->out_max = (size_t)sz;
		return 0;
	case OPT_MODE:
		if (!spc_cli_mode(v, &o->mode))
			return usage_error("--mode must be indexer, view or split: %s%s", v, NULL);
		o->mode_set = true;
		return 0;
	case OPT_VIEW_SHARE:
		if (!spc_cli_share(v, &o->view_share))
			return usage_error("--view-share must be a number strictly between 0 and 1: "
					   "%s%s", v, NULL);
		return 0;
	case OPT_ALLOW_REMOTE:
		o->allow_remote = true;
		return 0;
	case OPT_HASH_SEED:
		if (!parse_uint(v, UINT64_MAX, &n))
			return usage_error("--hash-seed is not a number: %s%s", v, NULL);
		o->hash_seed = n;
		o->hash_seed_set = true;
		return 0;
	case OPT_FULL_WAIT:
		if (!parse_uint(v, 60000, &n))
			return usage_error("--full-wait-ms must be 0 to 60000: %s%s", v, NULL);
		o->full_wait_ms = (uint32_t)n;
		return 0;
	default:
		return -1;
	}
}

int spc_srv_options_parse(int argc, char **argv, struct spc_srv_options *o)
{
	struct memc_listen m = { .port = DEFAULT_PORT };
	bool index_set = false, view_set = false;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			printf("splitcached %s\n", SPC_SRV_VERSION);
			exit(0);
		case 'i':
			printf("splitcached %s: GNU Lesser General Public License 2.1 or later "
			       "(LGPL-2.1-or-later); see LICENSE\n", SPC_SRV_VERSION);
			exit(0);
		case 'v':
			o->verbose++;
			if (optarg) /* --verbose=2 */
				o->verbose = atoi(optarg);
			continue;
		case ':':
			return usage_error("option %s needs a value%s", argv[optind - 1], NULL);
		case '?':
			if (optopt)
				return usage_error("unknown option -%s%s",
						   (const char[]){ (char)optopt, 0 }, NULL);
			return usage_error("unknown option %s%s", argv[optind - 1], NULL);
		default:
			break;
		}
		rc = own_option(c, optarg, o, &index_set, &view_set);
		if (rc < 0)
			rc = memc_option(c, optarg, o, &m);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument: %s%s", argv[optind], NULL);
	return settle(&m, index_set, view_set, o);
}
