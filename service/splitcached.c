/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * splitcached: the cache as a memcached-protocol service.
 *
 *   splitcached [memcached 1.6's options] [--index-listen ADDR]
 *               [--view-listen ADDR] [--port-file FILE] [--mode M] ...
 *
 * options.c reads the command line (memcached's options, and ours);
 * docs/service.md maps every memcached option. One listener per pool
 * (index on 127.0.0.1:11211, view on 127.0.0.1:11212 by default; with
 * memcached's -p/-l/-s only the index pool's); ADDR is host:port,
 * [v6]:port, unix:/path or "none". --port-file writes the bound addresses
 * ("index ADDR", "view ADDR", one a line) once the listeners are up.
 *
 * Start-up, in this order: block the stop signals (before any thread, so
 * every thread inherits the mask); raise the descriptor and core limits;
 * load the -Y file; bind the listeners (as the starting user: a port
 * below 1024 works as root); -d: detach (before any thread exists);
 * -P: write the pid file; -k: lock memory; open the cache (its threads
 * start here) with a random hash seed unless --hash-seed; -u: drop to
 * the user; print the memory report and the listeners on stdout; start
 * the workers. The main thread then waits for SIGTERM or SIGINT, once a
 * second running delayed flush_all deadlines. On a signal: the workers
 * stop accepting, finish what is in flight and close; the cache is
 * closed; the pid file removed; exit 0.
 *
 * Log lines on stderr: "<UTC time> splitcached[<pid>]: <level>: <text>".
 *
 * Exit status: 0 after a signal, 64 for a usage error (an unknown or
 * unsupported option, a bad value), 1 when the cache, a listener or the
 * user switch cannot be set up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "service/auth.h"
#include "service/options.h"
#include "service/server.h"
#include "service/startup.h"
#include "service/worker.h"

#define REPORT_CAP (1u << 16)
#define FDS_RESERVED 64               /* listeners, logs, the library's files */

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

static int listen_unix(struct spc_srv_listener *l, const char *path, const struct spc_srv_options *o)
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
	    chmod(path, o->unix_mask) != 0 || listen(fd, (int)o->backlog) != 0) {
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

static int listen_tcp(struct spc_srv_listener *l, const char *a, const struct spc_srv_options *o)
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
	if (!o->allow_remote && !is_loopback(res->ai_addr)) {
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
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, (int)o->backlog) != 0 ||
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
	rc = !strncmp(addr, "unix:", 5) ? listen_unix(l, addr + 5, &srv->opt)
					: listen_tcp(l, addr, &srv->opt);
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
	cfg.prefault = srv->opt.prefault;
	cfg.hash_seed = srv->opt.hash_seed;
	cfg.full_wait_ms = srv->opt.full_wait_ms;
	cfg.no_cas = srv->opt.no_cas; /* -C: entries without cas */
	cfg.log = spc_srv_lib_log;
	cfg.log_arg = srv;
	rc = spc_open(&cfg, &srv->cache);
	if (rc != SPC_OK) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot open the cache: %s", spc_strerror(rc));
		return rc;
	}
	rc = spc_srv_store_init(&srv->store, srv->cache);
	srv->store.no_evict = srv->opt.no_evict;
	srv->store.no_evict_pct = cfg.low_watermark_pct;
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
		spc_srv_log(srv, SPC_SRV_LOG_WARN,
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
	struct spc_server *srv = NULL;
	char pid_buf[PATH_MAX + 8], port_buf[PATH_MAX + 8];
	const char *pid_path = NULL;
	sigset_t stop;
	int rc, status = 1;

	if (spc_srv_new(&srv) != SPC_OK) {
		fprintf(stderr, "splitcached: out of memory\n");
		return 1;
	}
	spc_srv_options_default(&srv->opt);
	rc = spc_srv_options_parse(argc, argv, &srv->opt);
	if (rc) {
		spc_srv_free(srv);
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
	srv->opt.port_file = spc_srv_keep_path(srv->opt.port_file, port_buf, sizeof port_buf);
	pid_path = spc_srv_keep_path(srv->opt.pid_file, pid_buf, sizeof pid_buf);

	/* Before any thread exists, so every thread inherits the mask. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	raise_nofile(srv);
	if (srv->opt.core_dumps)
		spc_srv_raise_core(srv);
	if (spc_srv_load_auth(srv) != 0)
		goto out_free;
	if (open_listener(srv, SPC_POOL_INDEX, srv->opt.index_listen) != 0 ||
	    open_listener(srv, SPC_POOL_VIEW, srv->opt.view_listen) != 0)
		goto out_listeners;
	if (srv->nlisteners == 0) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "no listener (both addresses are none)");
		goto out_listeners;
	}
	if (srv->opt.daemon && spc_srv_detach(srv) != 0)
		goto out_listeners;
	if (pid_path && spc_srv_write_pid_file(srv, pid_path) != 0)
		pid_path = NULL;
	if (srv->opt.lock_memory)
		spc_srv_lock_memory(srv);
	srv->opt.hash_seed = spc_srv_hash_seed(srv);
	/* The value itself: the library's debug line (-vv), as it took it. */
	spc_srv_log(srv, SPC_SRV_LOG_INFO, "hash seed: %s",
		    srv->opt.hash_seed_set ? "--hash-seed" : "random (getrandom)");
	if (open_cache(srv) != SPC_OK)
		goto out_listeners;
	if (spc_srv_drop_privileges(srv) != 0)
		goto out_cache;
	print_report(srv);
	if (spc_srv_workers_start(srv) != SPC_OK) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot start the worker threads");
		goto out_cache;
	}
	if (srv->opt.port_file && write_port_file(srv) != 0) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot write %s: %s", srv->opt.port_file,
			    strerror(errno));
		spc_srv_workers_stop(srv);
		goto out_cache;
	}
	wait_for_stop(srv, &stop);
	spc_srv_workers_stop(srv);
	status = 0;
out_cache:
	spc_srv_store_fini(&srv->store);
	spc_close(srv->cache);
out_listeners:
	close_listeners(srv);
	if (pid_path)
		unlink(pid_path);
out_free:
	spc_srv_auth_free(srv->auth);
	spc_srv_free(srv);
	return status;
}
