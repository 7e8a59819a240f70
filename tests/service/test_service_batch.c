/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests that come in batches, and batches that do not come back whole.
 *
 * With io_uring a worker that has just answered a batch of requests waits
 * for as many again before it wakes (docs/service.md, "io_uring"), for a
 * bounded time. These tests drive one worker (-t 1) with many connections
 * in lock step, then let only some of them send: every request must still
 * be answered, in order, whatever part of the last batch comes back. The
 * same tests run on epoll (test_service_batch_epoll), where there is no
 * batch wait, as a reference for the replies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "one_conn.h"

enum { N = 24 };

static const char *const one_worker[] = { "-t", "1", NULL };

/* Sends a request on each of conns[from, to), all before reading any
 * reply, then checks every reply: a round of `from..to` in lock step. */
static void round_of(const int *conns, int from, int to, unsigned round)
{
	char req[128], want[128], got[128];

	for (int i = from; i < to; i++) {
		snprintf(req, sizeof req, "set k%d 0 0 %u\r\n%u\r\nget k%d\r\n", i,
			 (unsigned)snprintf(NULL, 0, "%u", round), round, i);
		ck_assert(conn_sends(conns[i], req));
	}
	for (int i = from; i < to; i++) {
		size_t n;

		snprintf(want, sizeof want, "STORED\r\nVALUE k%d 0 %u\r\n%u\r\nEND\r\n", i,
			 (unsigned)snprintf(NULL, 0, "%u", round), round);
		n = strlen(want);
		ck_assert_msg(conn_recv_n(conns[i], got, n), "round %u, connection %d: no reply",
			      round, i);
		got[n] = '\0';
		ck_assert_str_eq(got, want);
	}
}

/* Batches of every size follow one another on one worker: all of them
 * in lock step, then one connection alone, then half, then one again,
 * then all; each request is answered. (On a wait for the whole last
 * batch without a bound, the lone request after a full round would never
 * be answered.) */
START_TEST(test_batch_comes_back_partly)
{
	int conns[N];
	unsigned round = 0;

	up(one_worker);
	for (int i = 0; i < N; i++) {
		conns[i] = conn_open(S.index_port);
		ck_assert_int_ge(conns[i], 0);
	}
	for (int rep = 0; rep < 3; rep++) {
		for (int k = 0; k < 5; k++)
			round_of(conns, 0, N, round++);
		round_of(conns, 0, 1, round++);
		round_of(conns, 0, 1, round++);
		round_of(conns, 0, N / 2, round++);
		round_of(conns, N - 1, N, round++);
		for (int k = 0; k < 3; k++)
			round_of(conns, 0, N, round++);
		round_of(conns, N / 2, N, round++);
	}
	for (int i = 0; i < N; i++)
		close(conns[i]);
	expect("version\r\n", "VERSION ");
	down();
}
END_TEST

/* A full batch, then every connection but one closes: the worker's next
 * wait gets end-of-file completions and one request, and the last
 * connection is still served; so are new ones. */
START_TEST(test_batch_closes)
{
	int conns[N];

	up(one_worker);
	for (int i = 0; i < N; i++) {
		conns[i] = conn_open(S.index_port);
		ck_assert_int_ge(conns[i], 0);
	}
	for (unsigned k = 0; k < 5; k++)
		round_of(conns, 0, N, k);
	for (int i = 1; i < N; i++)
		close(conns[i]);
	round_of(conns, 0, 1, 7);
	for (int i = 1; i < N; i++) {
		conns[i] = conn_open(S.index_port);
		ck_assert_int_ge(conns[i], 0);
	}
	round_of(conns, 0, N, 8);
	round_of(conns, 3, 4, 9);
	for (int i = 0; i < N; i++)
		close(conns[i]);
	expect("version\r\n", "VERSION ");
	down();
}
END_TEST

int main(void)
{
	const struct TTest *const tests[] = {
		test_batch_comes_back_partly,
		test_batch_closes,
	};

	return harness_main("service_batch", tests, sizeof tests / sizeof tests[0]);
}
