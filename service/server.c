/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/server.c: the server handle: made and freed here, and its log
 * and counters.
 *
 * Every part of splitcached logs and counts through the handle (struct
 * spc_server, server.h), so this file sits below all of them: it calls
 * nothing of the service, only libc and the library's spc_stats_reset.
 *
 * Log lines go to stderr, one fprintf each (stdio locks the stream, so
 * lines of several threads never mix), with the UTC time to the
 * millisecond, the pid and the level; a line above the current verbosity
 * (`verbosity` and -v change it) is dropped before it is formatted.
 *
 * Counters. Each worker has a tally (counters and its connection load)
 * that it alone writes, with relaxed atomic stores, so the stats reader,
 * on another worker, sums whole values without a lock. "stats reset"
 * does not write the tallies: it records their sums as a base under
 * reset_mu, and the sums read afterwards are taken from that base.
 *
 * Guarantees (tests/service):
 *  1. A line is printed when its level is at most the verbosity; errors
 *     and warnings always.
 *  2. After "stats reset", spc_srv_counters_sum counts from zero while
 *     the per-worker tallies ("stats workers") keep counting.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/server.h"

int spc_srv_new(struct spc_server **out)
{
	struct spc_server *srv = calloc(1, sizeof *srv);

	*out = NULL;
	if (!srv)
		return SPC_ENOMEM;
	if (pthread_mutex_init(&srv->reset_mu, NULL) != 0) {
		free(srv);
		return SPC_ENOMEM;
	}
	*out = srv;
	return SPC_OK;
}

void spc_srv_free(struct spc_server *srv)
{
	if (!srv)
		return;
	pthread_mutex_destroy(&srv->reset_mu);
	free(srv);
}

void spc_srv_log(struct spc_server *srv, enum spc_srv_log level, const char *fmt, ...)
{
	char line[512], when[40];
	struct timespec ts;
	struct tm tm;
	const char *name = level == SPC_SRV_LOG_ERR ? "error"
			   : level == SPC_SRV_LOG_WARN ? "warning"
			   : level == SPC_SRV_LOG_INFO ? "info" : "debug";
	int need = level == SPC_SRV_LOG_WARN ? 0 : (int)level;
	va_list ap;

	/* Relaxed: the verbosity is a setting; any recent value will do. */
	if (srv && need > __atomic_load_n(&srv->verbose, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line: stdio locks the stream, lines never mix. */
	fprintf(stderr, "%s.%03ldZ splitcached[%d]: %s: %s\n", when, ts.tv_nsec / 1000000L,
		(int)getpid(), name, line);
}

/* The library's log sink: errors and warnings always (as what they are),
 * info at -v, debug at -vv. */
void spc_srv_lib_log(void *arg, enum spc_log_level level, const char *message)
{
	struct spc_server *srv = arg;
	enum spc_srv_log l = level == SPC_LOG_ERROR ? SPC_SRV_LOG_ERR
			     : level == SPC_LOG_WARN ? SPC_SRV_LOG_WARN
			     : level == SPC_LOG_INFO ? SPC_SRV_LOG_INFO : SPC_SRV_LOG_DEBUG;

	spc_srv_log(srv, l, "cache: %s", message);
}

int spc_srv_tallies_open(struct spc_server *srv, unsigned n)
{
	srv->tallies = calloc(n, sizeof *srv->tallies);
	if (!srv->tallies)
		return SPC_ENOMEM;
	srv->ntallies = n;
	return SPC_OK;
}

void spc_srv_tallies_close(struct spc_server *srv)
{
	free(srv->tallies);
	srv->tallies = NULL;
	srv->ntallies = 0;
}

unsigned spc_srv_worker_conns(struct spc_server *srv, unsigned i)
{
	return i < srv->ntallies ? __atomic_load_n(&srv->tallies[i].load, __ATOMIC_RELAXED) : 0;
}

uint64_t spc_srv_recv_buffer_bytes(struct spc_server *srv)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < srv->ntallies; i++)
		n += __atomic_load_n(&srv->tallies[i].recv_buf_bytes, __ATOMIC_RELAXED);
	return n;
}

const struct spc_srv_counters *spc_srv_worker_counters(struct spc_server *srv, unsigned i)
{
	return i < srv->ntallies ? &srv->tallies[i].cnt : NULL;
}

/* Every worker's counters summed, as they run. */
static void counters_raw(struct spc_server *srv, struct spc_srv_counters *out)
{
	const size_t n = sizeof *out / sizeof(uint64_t);
	uint64_t *dst = (uint64_t *)out;
	unsigned i;
	size_t j;

	memset(out, 0, sizeof *out);
	for (i = 0; i < srv->ntallies; i++) {
		const uint64_t *src = (const uint64_t *)&srv->tallies[i].cnt;

		for (j = 0; j < n; j++)
			dst[j] += spc_srv_read(&src[j]);
	}
}

void spc_srv_counters_sum(struct spc_server *srv, struct spc_srv_counters *out)
{
	const size_t n = sizeof *out / sizeof(uint64_t);
	const uint64_t *base = (const uint64_t *)&srv->reset_base;
	uint64_t *dst = (uint64_t *)out;
	size_t j;

	counters_raw(srv, out);
	pthread_mutex_lock(&srv->reset_mu);
	for (j = 0; j < n; j++) /* counters only grow: never below the base */
		dst[j] = dst[j] > base[j] ? dst[j] - base[j] : 0;
	pthread_mutex_unlock(&srv->reset_mu);
}

void spc_srv_stats_reset(struct spc_server *srv)
{
	struct spc_srv_counters now;

	counters_raw(srv, &now);
	pthread_mutex_lock(&srv->reset_mu);
	srv->reset_base = now;
	pthread_mutex_unlock(&srv->reset_mu);
	spc_stats_reset(srv->cache);
}
