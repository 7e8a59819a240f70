/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * one_conn.h: the shape of a service test that talks to one splitcached
 * over one connection to its index listener: up() starts the server with
 * extra arguments and connects, down() closes and stops it, expect() sends
 * a request and checks the reply byte for byte. Included by one test file
 * each (the definitions are static).
 */
#ifndef SPC_TESTS_ONE_CONN_H
#define SPC_TESTS_ONE_CONN_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static struct srv S;
static int fd;

static void up(const char *const *extra)
{
	ck_assert_int_eq(srv_start(&S, extra), 0);
	fd = conn_open(S.index_port);
	ck_assert_int_ge(fd, 0);
}

static void down(void)
{
	close(fd);
	ck_assert_int_eq(srv_stop(&S), 0);
}

/* Sends req, expects exactly want (read until its length). */
static void expect(const char *req, const char *want)
{
	size_t n = strlen(want);
	char *got = calloc(1, n + 1);

	ck_assert_ptr_nonnull(got);
	ck_assert(conn_sends(fd, req));
	ck_assert_msg(conn_recv_n(fd, got, n), "short reply to %s (wanted %s)", req, want);
	ck_assert_msg(memcmp(got, want, n) == 0, "%s -> got \"%s\", want \"%s\"", req, got, want);
	free(got);
}

#endif
