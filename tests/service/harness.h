/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/service/harness.h: starts the real splitcached on free loopback
 * ports (--index-listen 127.0.0.1:0 and --port-file), talks to it over raw
 * sockets, and stops it with SIGTERM, returning its exit status.
 */
#ifndef SPC_TEST_SERVICE_HARNESS_H
#define SPC_TEST_SERVICE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HARNESS_TIMEOUT_MS 10000

struct srv {
	pid_t pid;
	int index_port, view_port;
	char dir[128]; /* temporary folder: port file, logs */
};

/* Scale for counts and durations: 1 in a normal build, smaller under the
 * sanitizers (SPC_SERVICE_LIGHT). */
unsigned harness_scale(unsigned normal, unsigned light);

/* Starts build/.../service/splitcached with the default test options
 * (-m 64, -t 2, and --io $SPC_TEST_IO when that is set) plus the
 * NULL-terminated extra arguments, waits until it listens. With
 * SPC_TEST_DENY_URING set, the server runs under a seccomp filter that
 * refuses io_uring_setup (EPERM). Returns 0 or -1. */
int srv_start(struct srv *s, const char *const *extra);
/* SIGTERM, then waits (bounded); returns the exit status, 128 + signal
 * when killed by one, -1 on a timeout (it is then killed). */
int srv_stop(struct srv *s);
/* True while the process runs. */
bool srv_alive(const struct srv *s);

/* A blocking TCP connection to 127.0.0.1:port with receive and send
 * timeouts of HARNESS_TIMEOUT_MS. -1 on failure. */
int conn_open(int port);
/* Sends everything; false on error. */
bool conn_send(int fd, const void *p, size_t n);
bool conn_sends(int fd, const char *s);
/* Reads until the bytes received end with `end` (NULL: until EOF), cap
 * reached, EOF, or the timeout. Returns the length read; buf is NUL-
 * terminated (cap - 1 bytes at most are stored). *eof (may be NULL) is
 * set when the peer closed. */
size_t conn_recv_until(int fd, char *buf, size_t cap, const char *end, bool *eof);
/* Reads exactly n bytes (false on EOF, error, timeout). */
bool conn_recv_n(int fd, char *buf, size_t n);
/* Sends req and returns the reply read until `end` in a static buffer. */
const char *conn_ask(int fd, const char *req, const char *end);
/* True when the peer closes within timeout_ms (data before it is read
 * and dropped). */
bool conn_wait_eof(int fd, int timeout_ms);

/* Runs the Check tests of one suite (forked, 120 s each) and returns the
 * process exit status. */
struct TTest;
int harness_main(const char *suite, const struct TTest *const *tests, size_t n);

/* The value of "STAT <name> " in a stats reply, or -1. */
long long stat_value(const char *stats, const char *name);

#endif /* SPC_TEST_SERVICE_HARNESS_H */
