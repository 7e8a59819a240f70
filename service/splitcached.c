/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * splitcached: the cache as a memcached-protocol service.
 *
 *   splitcached [--index-listen ADDR] [--view-listen ADDR] [--port-file FILE]
 *               [-m SIZE] [-c N] [-I SIZE] [-t N] [--idle-timeout S]
 *               [--max-line N] [--max-output SIZE] [--mode M] [--view-share F]
 *               [--allow-remote] [-v|-vv]
 *
 * One listener per pool (index on 127.0.0.1:11211, view on 127.0.0.1:11212
 * by default); ADDR is host:port, [v6]:port, unix:/path or "none". Port 0
 * picks a free port; --port-file writes the bound addresses ("index ADDR",
 * "view ADDR", one a line) once the listeners are up, so tests and scripts
 * learn them. docs/service.md has every flag.
 *
 * Start-up: block the stop signals in every thread (set before spc_open,
 * so the library's threads inherit the mask), open the cache, print the
 * memory report and the listeners on stdout, bind, start the workers.
 * The main thread then waits for SIGTERM or SIGINT, once a second running
 * delayed flush_all deadlines. On a signal: the workers stop accepting,
 * finish what is in flight and close; the cache is closed; exit 0.
 *
 * Exit status: 0 after a signal, 2 for a bad argument, 1 when the cache or
 * a listener cannot be set up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "service/cli.h"
#include "service/server.h"

#define DEFAULT_INDEX_LISTEN "127.0.0.1:11211"
#define DEFAULT_VIEW_LISTEN "127.0.0.1:11212"
#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_THREADS 4
#define DEFAULT_OUT_MAX (8u << 20)
#define DEFAULT_LINE_MAX 2048
#define ITEM_MIN 1024                 /* memcached's -I bounds */
#define ITEM_MAX (1024u << 20)
#define THREADS_MAX 256
#define LISTEN_BACKLOG 1024
#define REPORT_CAP (1u << 16)
#define FDS_RESERVED 64               /* listeners, logs, the library's files */

static const char usage[] =
	"usage: splitcached [options]\n"
	"  --index-listen ADDR   index pool listener (default " DEFAULT_INDEX_LISTEN ")\n"
	"  --view-listen ADDR    view pool listener (default " DEFAULT_VIEW_LISTEN ")\n"
	"                        ADDR: host:port, [v6]:port, unix:/path, none; port 0: any\n"
	"  --port-file FILE      write the bound addresses there once listening\n"
	"  -m, --memory SIZE     memory budget (plain number: MiB; 512M, 2G; default: detect)\n"
	"  -c, --max-conns N     most connections at once (default 1024)\n"
	"  -I, --max-item SIZE   item size limit (default 1m, 1k..1024m)\n"
	"  -t, --threads N       worker threads (default 4)\n"
	"  --idle-timeout S      close connections idle for S seconds (default 0: never)\n"
	"  --max-line N          longest request line (default 2048)\n"
	"  --max-output SIZE     pending output per connection before it is closed (8M)\n"
	"  --mode M              indexer, view or split (default split)\n"
	"  --view-share F        view pool share in split mode (default 0.5)\n"
	"  --allow-remote        allow non-loopback listen addresses\n"
	"  -v, -vv               more log: stop, capped connections (-v); idle closes,\n"
	"                        refused stores (-vv)\n"
	"  -V, --version         print the version\n";

void spc_srv_log(struct spc_server *srv, enum spc_srv_log level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "info", "debug" };
	char line[512];
	va_list ap;

	if (srv && (int)level > __atomic_load_n(&srv->verbose, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "splitcached: %s: %s\n", names[level], line);
}

/* The library's log sink: warnings and errors always, info at -v. */
static void lib_log(void *arg, enum spc_log_level level, const char *message)
{
	struct spc_server *srv = arg;
	enum spc_srv_log l = level <= SPC_LOG_WARN ? SPC_SRV_LOG_ERR
			     : level == SPC_LOG_INFO ? SPC_SRV_LOG_INFO : SPC_SRV_LOG_DEBUG;

	spc_srv_log(srv, l, "cache: %s", message);
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "splitcached: %s%s%s (try --help)\n", what, arg ? ": " : "",
		arg ? arg : "");
	return 2;
}

static bool parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end = NULL;

	if (!*v || *v == '-' || *v == '+')
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
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

static void options_default(struct spc_srv_options *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->index_listen, sizeof o->index_listen, "%s", DEFAULT_INDEX_LISTEN);
	snprintf(o->view_listen, sizeof o->view_listen, "%s", DEFAULT_VIEW_LISTEN);
	o->max_conns = DEFAULT_MAX_CONNS;
	o->item_max = 1u << 20;
	o->threads = DEFAULT_THREADS;
	o->line_max = DEFAULT_LINE_MAX;
	o->out_max = DEFAULT_OUT_MAX;
	o->mode = SPC_MODE_SPLIT;
	o->view_share = 0.5;
}

static int parse_args(int argc, char **argv, struct spc_srv_options *o)
{
	unsigned long long n;
	uint64_t sz;
	int i;

	for (i = 1; i < argc; i++) {
		const char *v;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("splitcached %s\n", SPC_SRV_VERSION);
			exit(0);
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "-vv")) {
			o->verbose += (int)strlen(argv[i]) - 1;
		} else if (!strcmp(argv[i], "--allow-remote")) {
			o->allow_remote = true;
		} else if ((v = spc_cli_value(argc, argv, &i, "--index-listen"))) {
			if (!*v || strlen(v) >= sizeof o->index_listen)
				return bad("--index-listen needs an address", v);
			snprintf(o->index_listen, sizeof o->index_listen, "%s", v);
		} else if ((v = spc_cli_value(argc, argv, &i, "--view-listen"))) {
			if (!*v || strlen(v) >= sizeof o->view_listen)
				return bad("--view-listen needs an address", v);
			snprintf(o->view_listen, sizeof o->view_listen, "%s", v);
		} else if ((v = spc_cli_value(argc, argv, &i, "--port-file"))) {
			if (!*v)
				return bad("--port-file needs a file name", NULL);
			o->port_file = v;
		} else if ((v = spc_cli_value(argc, argv, &i, "--memory")) ||
			   (v = spc_cli_value(argc, argv, &i, "-m"))) {
			if (!parse_budget(v, &o->budget))
				return bad("-m is not a size", v);
		} else if ((v = spc_cli_value(argc, argv, &i, "--max-conns")) ||
			   (v = spc_cli_value(argc, argv, &i, "-c"))) {
			if (!parse_uint(v, UINT32_MAX, &n) || n == 0)
				return bad("-c is not a positive number", v);
			o->max_conns = (unsigned)n;
		} else if ((v = spc_cli_value(argc, argv, &i, "--max-item")) ||
			   (v = spc_cli_value(argc, argv, &i, "-I"))) {
			if (spc_parse_size(v, &sz) != SPC_OK || sz < ITEM_MIN || sz > ITEM_MAX)
				return bad("-I must be a size from 1k to 1024m", v);
			o->item_max = (size_t)sz;
		} else if ((v = spc_cli_value(argc, argv, &i, "--threads")) ||
			   (v = spc_cli_value(argc, argv, &i, "-t"))) {
			if (!parse_uint(v, THREADS_MAX, &n) || n == 0)
				return bad("-t must be 1..256", v);
			o->threads = (unsigned)n;
		} else if ((v = spc_cli_value(argc, argv, &i, "--idle-timeout"))) {
			if (!parse_uint(v, UINT32_MAX, &n))
				return bad("--idle-timeout is not a number of seconds", v);
			o->idle_timeout_s = (unsigned)n;
		} else if ((v = spc_cli_value(argc, argv, &i, "--max-line"))) {
			if (!parse_uint(v, 1u << 20, &n) || n < SPC_PROTO_KEY_MAX + 16)
				return bad("--max-line must be 266..1048576", v);
			o->line_max = (size_t)n;
		} else if ((v = spc_cli_value(argc, argv, &i, "--max-output"))) {
			if (spc_parse_size(v, &sz) != SPC_OK || sz == 0 || sz > SIZE_MAX / 4)
				return bad("--max-output is not a size", v);
			o->out_max = (size_t)sz;
		} else if ((v = spc_cli_value(argc, argv, &i, "--mode"))) {
			if (!spc_cli_mode(v, &o->mode))
				return bad("--mode must be indexer, view or split", v);
		} else if ((v = spc_cli_value(argc, argv, &i, "--view-share"))) {
			if (!spc_cli_share(v, &o->view_share))
				return bad("--view-share must be a number strictly between 0 and 1", v);
		} else {
			return bad("unknown argument", argv[i]);
		}
	}
	return 0;
}

/* ---- listeners ------------------------------------------------------------ */

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

static int listen_unix(struct spc_srv_listener *l, const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof sun.sun_path)
		return -ENAMETOOLONG;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket file of an earlier run */
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	l->fd = fd;
	snprintf(l->addr, sizeof l->addr, "unix:%s", path);
	snprintf(l->unix_path, sizeof l->unix_path, "%s", path);
	return 0;
}

/* Splits "host:port" / "[v6]:port" into host and port. */
static bool split_hostport(const char *a, char *host, size_t hcap, const char **port)
{
	const char *colon;
	size_t hl;

	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (!close || close[1] != ':')
			return false;
		hl = (size_t)(close - a - 1);
		a++;
		colon = close + 1;
	} else {
		colon = strrchr(a, ':');
		if (!colon)
			return false;
		hl = (size_t)(colon - a);
	}
	if (hl >= hcap || !colon[1])
		return false;
	memcpy(host, a, hl);
	host[hl] = '\0';
	*port = colon + 1;
	return true;
}

static int listen_tcp(struct spc_srv_listener *l, const char *a, bool allow_remote)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[SPC_SRV_ADDR_MAX], name[INET6_ADDRSTRLEN];
	const char *port;
	int fd, one = 1, rc;

	if (!split_hostport(a, host, sizeof host, &port))
		return -EINVAL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0 || !res)
		return -EADDRNOTAVAIL;
	if (!allow_remote && !is_loopback(res->ai_addr)) {
		freeaddrinfo(res);
		return -EPERM;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(res);
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		rc = -errno;
		close(fd);
		freeaddrinfo(res);
		return rc;
	}
	freeaddrinfo(res);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, name, sizeof name);
		snprintf(l->addr, sizeof l->addr, "[%s]:%u", name, ntohs(in6->sin6_port));
	} else {
		struct sockaddr_in *in = (void *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, name, sizeof name);
		snprintf(l->addr, sizeof l->addr, "%s:%u", name, ntohs(in->sin_port));
	}
	l->fd = fd;
	l->unix_path[0] = '\0';
	return 0;
}

static int open_listener(struct spc_server *srv, enum spc_pool_id pool, const char *addr)
{
	struct spc_srv_listener *l = &srv->listeners[srv->nlisteners];
	int rc;

	if (!strcmp(addr, "none"))
		return 0;
	l->pool = pool;
	rc = !strncmp(addr, "unix:", 5) ? listen_unix(l, addr + 5)
					: listen_tcp(l, addr, srv->opt.allow_remote);
	if (rc != 0) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot listen on %s: %s%s", addr, strerror(-rc),
			    rc == -EPERM ? " (not a loopback address: --allow-remote)" : "");
		return rc;
	}
	srv->nlisteners++;
	return 0;
}

static const char *pool_name(enum spc_pool_id pool)
{
	return pool == SPC_POOL_INDEX ? "index" : "view";
}

/* Writes FILE.tmp then renames it, so readers never see half a file. */
static int write_port_file(struct spc_server *srv)
{
	char tmp[4096];
	unsigned i;
	FILE *f;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", srv->opt.port_file) >= (int)sizeof tmp)
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	for (i = 0; i < srv->nlisteners; i++)
		fprintf(f, "%s %s\n", pool_name(srv->listeners[i].pool), srv->listeners[i].addr);
	if (fclose(f) != 0 || rename(tmp, srv->opt.port_file) != 0)
		return -1;
	return 0;
}

static void close_listeners(struct spc_server *srv)
{
	unsigned i;

	for (i = 0; i < srv->nlisteners; i++) {
		close(srv->listeners[i].fd);
		if (srv->listeners[i].unix_path[0])
			unlink(srv->listeners[i].unix_path);
	}
	srv->nlisteners = 0;
}

/* ---- start-up ------------------------------------------------------------ */

static int open_cache(struct spc_server *srv)
{
	struct spc_config cfg;
	int rc;

	spc_config_init(&cfg);
	cfg.budget_bytes = srv->opt.budget;
	cfg.mode = srv->opt.mode;
	cfg.view_share = srv->opt.view_share;
	cfg.max_item_bytes = (uint32_t)srv->opt.item_max;
	cfg.log = lib_log;
	cfg.log_arg = srv;
	rc = spc_open(&cfg, &srv->cache);
	if (rc != SPC_OK) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot open the cache: %s", spc_strerror(rc));
		return rc;
	}
	rc = spc_srv_store_init(&srv->store, srv->cache);
	if (rc != SPC_OK) {
		spc_close(srv->cache);
		srv->cache = NULL;
	}
	return rc;
}

static void print_report(struct spc_server *srv)
{
	struct spc_mem_report *r = calloc(1, sizeof *r);
	char *buf = malloc(REPORT_CAP);
	unsigned i;

	if (r && buf && spc_memory_report(srv->cache, r) == SPC_OK) {
		srv->budget = r->budget_bytes;
		spc_mem_report_text(r, buf, REPORT_CAP, NULL);
		fputs(buf, stdout);
	}
	free(buf);
	free(r);
	for (i = 0; i < srv->nlisteners; i++)
		printf("splitcached %s: %s pool on %s\n", SPC_SRV_VERSION,
		       pool_name(srv->listeners[i].pool), srv->listeners[i].addr);
	fflush(stdout);
}

/* Raises the soft RLIMIT_NOFILE so -c connections fit (as memcached
 * does), within the hard limit; warns when they cannot. */
static void raise_nofile(struct spc_server *srv)
{
	rlim_t want = (rlim_t)srv->opt.max_conns + FDS_RESERVED + 4 * srv->opt.threads;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		spc_srv_log(srv, SPC_SRV_LOG_ERR,
			    "file descriptor limit %llu is below -c %u: connections past it are refused",
			    (unsigned long long)rl.rlim_cur, srv->opt.max_conns);
}

/* Runs due delayed flushes. Context: main thread. */
static void run_flushes(struct spc_server *srv)
{
	uint64_t now = spc_srv_now();
	int p;

	for (p = 0; p < SPC_POOL_COUNT; p++) {
		uint64_t at = __atomic_load_n(&srv->flush_at[p], __ATOMIC_RELAXED);

		if (at && at <= now &&
		    __atomic_compare_exchange_n(&srv->flush_at[p], &at, 0, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			spc_clear(srv->cache, (enum spc_pool_id)p);
	}
}

/* Waits for SIGTERM or SIGINT (blocked in every thread). */
static void wait_for_stop(struct spc_server *srv, const sigset_t *stop)
{
	const struct timespec tick = { 1, 0 };

	for (;;) {
		int sig = sigtimedwait(stop, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			spc_srv_log(srv, SPC_SRV_LOG_INFO, "signal %d: stopping", sig);
			return;
		}
		run_flushes(srv);
	}
}

int main(int argc, char **argv)
{
	struct spc_server *srv = calloc(1, sizeof *srv);
	sigset_t stop;
	int rc, status = 1;

	if (!srv) {
		fprintf(stderr, "splitcached: out of memory\n");
		return 1;
	}
	options_default(&srv->opt);
	rc = parse_args(argc, argv, &srv->opt);
	if (rc) {
		free(srv);
		return rc;
	}
	srv->verbose = srv->opt.verbose;
	srv->started = spc_srv_now();
	spc_proto_limits_default(&srv->limits);
	srv->limits.item_max = srv->opt.item_max;
	srv->limits.line_max = srv->opt.line_max;
	if (srv->opt.out_max < srv->opt.item_max + (64u << 10)) {
		srv->opt.out_max = srv->opt.item_max + (64u << 10);
		spc_srv_log(srv, SPC_SRV_LOG_INFO, "--max-output raised to %zu (an item must fit)",
			    srv->opt.out_max);
	}

	/* Before any thread exists, so every thread inherits the mask. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	raise_nofile(srv);
	if (open_cache(srv) != SPC_OK)
		goto out_free;
	if (open_listener(srv, SPC_POOL_INDEX, srv->opt.index_listen) != 0 ||
	    open_listener(srv, SPC_POOL_VIEW, srv->opt.view_listen) != 0)
		goto out_listeners;
	if (srv->nlisteners == 0) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "no listener (both addresses are none)");
		goto out_listeners;
	}
	print_report(srv);
	if (spc_srv_workers_start(srv) != SPC_OK) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot start the worker threads");
		goto out_listeners;
	}
	if (srv->opt.port_file && write_port_file(srv) != 0) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot write %s: %s", srv->opt.port_file,
			    strerror(errno));
		spc_srv_workers_stop(srv);
		goto out_listeners;
	}
	wait_for_stop(srv, &stop);
	spc_srv_workers_stop(srv);
	status = 0;
out_listeners:
	close_listeners(srv);
	spc_srv_store_fini(&srv->store);
	spc_close(srv->cache);
out_free:
	free(srv);
	return status;
}
