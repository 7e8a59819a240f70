/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/service/harness.c: see harness.h. */
#include "harness.h"

#include <check.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVER_BIN SPC_TEST_BINARY_DIR "/service/splitcached"
#define START_POLL_MS 10
#define MAX_ARGS 48
#define TEST_TIMEOUT_S 120

unsigned harness_scale(unsigned normal, unsigned light)
{
#ifdef SPC_SERVICE_LIGHT
	(void)normal;
	return light;
#else
	const char *e = getenv("SPC_SERVICE_LIGHT");

	return e && *e && strcmp(e, "0") ? light : normal;
#endif
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool read_ports(struct srv *s, const char *path)
{
	char line[256], addr[200], pool[16];
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (fgets(line, sizeof line, f)) {
		const char *colon;

		if (sscanf(line, "%15s %199s", pool, addr) != 2)
			continue;
		colon = strrchr(addr, ':');
		if (!colon)
			continue;
		if (!strcmp(pool, "index"))
			s->index_port = atoi(colon + 1);
		else if (!strcmp(pool, "view"))
			s->view_port = atoi(colon + 1);
	}
	fclose(f);
	return s->index_port > 0 || s->view_port > 0;
}

/* Removes the server's folder, printing its log on stderr first when
 * show_log. */
static void remove_dir(const char *dir, bool show_log)
{
	char cmd[300];

	if (show_log) {
		snprintf(cmd, sizeof cmd, "cat %s/log >&2", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* In the server's child before exec, with SPC_TEST_DENY_URING set: a
 * seccomp filter that answers io_uring_setup with EPERM, as a container's
 * or the systemd unit's does. */
static void deny_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		_exit(126);
}

int srv_start(struct srv *s, const char *const *extra)
{
	const char *argv[MAX_ARGS];
	const char *io = getenv("SPC_TEST_IO");
	char pf[256], log[256];
	long long deadline;
	int n = 0;

	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/spc-svc-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(pf, sizeof pf, "%s/ports", s->dir);
	snprintf(log, sizeof log, "%s/log", s->dir);
	argv[n++] = SERVER_BIN;
	argv[n++] = "--index-listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--view-listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = pf;
	argv[n++] = "-m";
	argv[n++] = "64";
	argv[n++] = "-t";
	argv[n++] = "2";
	if (io && *io) { /* the I/O backend of this run (CTest's variants) */
		argv[n++] = "--io";
		argv[n++] = io;
	}
	while (extra && *extra && n < MAX_ARGS - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (getenv("SPC_TEST_DENY_URING"))
			deny_io_uring();
		execv(SERVER_BIN, (char *const *)argv);
		_exit(127);
	}
	deadline = now_ms() + HARNESS_TIMEOUT_MS * 3;
	while (now_ms() < deadline) {
		if (read_ports(s, pf))
			return 0;
		if (!srv_alive(s))
			break;
		usleep(START_POLL_MS * 1000);
	}
	/* Did not come up: show its log, reap it, remove the folder. */
	if (srv_alive(s))
		kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
	remove_dir(s->dir, true);
	return -1;
}

bool srv_alive(const struct srv *s)
{
	return s->pid > 0 && waitpid(s->pid, NULL, WNOHANG) == 0;
}

int srv_stop(struct srv *s)
{
	long long deadline = now_ms() + HARNESS_TIMEOUT_MS * 3;
	int st;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(s->pid, &st, WNOHANG);

		if (r == s->pid)
			break;
		if (now_ms() > deadline) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			s->pid = 0;
			return -1;
		}
		usleep(START_POLL_MS * 1000);
	}
	s->pid = 0;
	/* Show the server's log (sanitizer reports) when it failed. */
	remove_dir(s->dir, !WIFEXITED(st) || WEXITSTATUS(st) != 0);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int conn_open(int port)
{
	struct sockaddr_in a;
	struct timeval tv = { HARNESS_TIMEOUT_MS / 1000, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

bool conn_send(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

bool conn_sends(int fd, const char *s)
{
	return conn_send(fd, s, strlen(s));
}

size_t conn_recv_until(int fd, char *buf, size_t cap, const char *end, bool *eof)
{
	size_t len = 0, el = end ? strlen(end) : 0;

	if (eof)
		*eof = false;
	while (len + 1 < cap) {
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && eof)
			*eof = true;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (end && len >= el && memcmp(buf + len - el, end, el) == 0)
			break;
	}
	buf[len] = '\0';
	return len;
}

bool conn_recv_n(int fd, char *buf, size_t n)
{
	size_t len = 0;

	while (len < n) {
		ssize_t r = recv(fd, buf + len, n - len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		len += (size_t)r;
	}
	return true;
}

const char *conn_ask(int fd, const char *req, const char *end)
{
	static char buf[1 << 16];

	if (!conn_sends(fd, req))
		return "<send failed>";
	conn_recv_until(fd, buf, sizeof buf, end, NULL);
	return buf;
}

bool conn_wait_eof(int fd, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	char buf[65536];

	while (now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
	return false;
}

long long stat_value(const char *stats, const char *name)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof pat, "STAT %s ", name);
	p = strstr(stats, pat);
	return p ? atoll(p + strlen(pat)) : -1;
}

int harness_main(const char *suite, const struct TTest *const *tests, size_t n)
{
	Suite *s = suite_create(suite);
	TCase *tc = tcase_create(suite);
	SRunner *sr;
	int failed;
	size_t i;

	tcase_set_timeout(tc, TEST_TIMEOUT_S);
	for (i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
