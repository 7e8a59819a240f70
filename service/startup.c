/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/startup.c: the process steps of memcached's start-up that
 * splitcached.c runs in order (see its top): -Y read, -d detach, -P pid
 * file, -r core limit, -k memory lock, the hash seed, -u user switch.
 * Each is a small system call sequence with memcached's meaning and its
 * failure policy: what memcached treats as fatal (-d, -u, an unreadable
 * -Y file) returns -1 and the caller exits 1; what memcached only warns
 * about (-k, -r) logs a warning and goes on.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "service/auth.h"
#include "service/server.h"
#include "service/startup.h"

/* A path that still means the same file after -d's chdir("/"): absolute
 * paths as they are, relative ones under the working directory. */
const char *spc_srv_keep_path(const char *p, char *buf, size_t cap)
{
	char cwd[PATH_MAX];

	if (!p || p[0] == '/' || !getcwd(cwd, sizeof cwd) ||
	    snprintf(buf, cap, "%s/%s", cwd, p) >= (int)cap)
		return p;
	return buf;
}

/* -d: memcached's daemon(3) -- fork, the parent exits 0, a new session,
 * cwd "/", stdio on /dev/null unless -v. Called before any thread. */
int spc_srv_detach(struct spc_server *srv)
{
	if (daemon(0, srv->opt.verbose > 0) != 0) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot run as a daemon: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int spc_srv_write_pid_file(struct spc_server *srv, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "cannot write the pid file %s: %s", path,
			    strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return 0;
}

/* -r: the core file limit to its hard maximum (infinity as root). */
void spc_srv_raise_core(struct spc_server *srv)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (setrlimit(RLIMIT_CORE, &rl) == 0)
		return;
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_CORE, &rl) == 0)
			return;
	}
	spc_srv_log(srv, SPC_SRV_LOG_WARN, "-r: cannot raise the core file limit: %s",
		    strerror(errno));
}

/* -k: lock every page once it is touched (MCL_ONFAULT: nothing is
 * populated by the call itself), the pools included. As memcached, a
 * failure is a warning. As root the lock limit goes first, so that the
 * locking still works after -u. */
void spc_srv_lock_memory(struct spc_server *srv)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int flags = MCL_CURRENT | MCL_FUTURE;

	if (geteuid() == 0)
		setrlimit(RLIMIT_MEMLOCK, &rl);
#ifdef MCL_ONFAULT
	flags |= MCL_ONFAULT;
#endif
	if (mlockall(flags) != 0)
		spc_srv_log(srv, SPC_SRV_LOG_WARN, "-k: mlockall failed: %s (memory stays pageable)",
			    strerror(errno));
	else
		spc_srv_log(srv, SPC_SRV_LOG_INFO, "-k: memory locked as it is touched");
}

/* The hash seed: --hash-seed, else 64 random bits from the kernel. */
uint64_t spc_srv_hash_seed(struct spc_server *srv)
{
	uint64_t seed = 0;

	if (srv->opt.hash_seed_set)
		return srv->opt.hash_seed;
	if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid();
		spc_srv_log(srv, SPC_SRV_LOG_WARN, "getrandom failed (%s): hash seed from the clock",
			    strerror(errno));
	}
	return seed;
}

/* -k after -u: root could lock without limit (CAP_IPC_LOCK), the user
 * only up to its RLIMIT_MEMLOCK, which lock_memory could not raise where
 * the hard limit is fixed (a container without CAP_SYS_RESOURCE). Then
 * every new mapping -- a thread's stack, a pool growing -- would fail:
 * unlock instead, and say so (memcached's -k degrades to a warning too). */
static void relock_as_user(struct spc_server *srv)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	munlockall();
	spc_srv_log(srv, SPC_SRV_LOG_WARN,
		    "-k: %s may lock only %llu kB (RLIMIT_MEMLOCK): memory left unlocked "
		    "(raise the user's memlock limit, e.g. LimitMEMLOCK=infinity)",
		    srv->opt.user, (unsigned long long)rl.rlim_cur / 1024);
}

/* -u: as root, become the user (groups, gid, uid -- glibc switches every
 * thread); not root: ignored, as memcached does. A unix socket file is
 * given to the user so that it can still remove it. */
int spc_srv_drop_privileges(struct spc_server *srv)
{
	struct passwd *pw;
	unsigned i;

	if (geteuid() != 0) {
		if (srv->opt.user)
			spc_srv_log(srv, SPC_SRV_LOG_INFO, "-u %s ignored: not running as root",
				    srv->opt.user);
		return 0;
	}
	if (!srv->opt.user) {
		spc_srv_log(srv, SPC_SRV_LOG_WARN, "running as root: -u USER drops the privileges");
		return 0;
	}
	pw = getpwnam(srv->opt.user);
	if (!pw) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "-u: no user %s", srv->opt.user);
		return -1;
	}
	for (i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i].unix_path[0] &&
		    chown(srv->listeners[i].unix_path, pw->pw_uid, pw->pw_gid) != 0)
			spc_srv_log(srv, SPC_SRV_LOG_WARN, "cannot give %s to %s: %s",
				    srv->listeners[i].unix_path, srv->opt.user, strerror(errno));
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0 || (pw->pw_uid != 0 && setuid(0) == 0)) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "-u: cannot become %s: %s", srv->opt.user,
			    strerror(errno));
		return -1;
	}
	spc_srv_log(srv, SPC_SRV_LOG_INFO, "running as %s (uid %u, gid %u)", srv->opt.user,
		    (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	if (srv->opt.lock_memory)
		relock_as_user(srv);
	return 0;
}

int spc_srv_load_auth(struct spc_server *srv)
{
	int rc;

	if (!srv->opt.auth_file)
		return 0;
	rc = spc_srv_auth_load(srv->opt.auth_file, &srv->auth);
	if (rc == SPC_OK)
		return 0;
	spc_srv_log(srv, SPC_SRV_LOG_ERR, "-Y %s: %s", srv->opt.auth_file,
		    rc == SPC_ESYS ? strerror(errno)
		    : rc == SPC_EINVAL ? "no user:password line" : spc_strerror(rc));
	return -1;
}

