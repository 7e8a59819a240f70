/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner.c: what every scenario needs around its timed loops: a monotonic
 * clock, thread start/join, CPU pinning, the process RSS, a description of
 * the machine for the result file, progress lines and small parsers.
 *
 * CPU time comes from the POSIX CPU clocks: the process's (every thread,
 * the cache's background threads included, user and system time) and the
 * calling thread's; a scenario subtracts its own threads from the
 * process's to find what the system under test spent besides them.
 *
 * RSS comes from /proc/self/statm (resident pages x page size), read with
 * plain stdio: cheap enough for a monitor thread sampling every few ms.
 *
 * Settling (bench_settle): a figure read while the system still works in
 * the background on what a load started (a cache's index resize, which
 * holds two tables until it ends; reclamation of replaced entries) is a
 * figure of that work, not of the steady state. A system that can tell
 * when it is done says so through its settle callback (bounded wait,
 * BENCH_SETTLE_MAX_S); the others get a fixed pause.
 */
#include "bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t bench_process_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

uint64_t bench_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void bench_settle(const struct bench_sys *sys, void *h, struct bench_row *out)
{
	uint64_t t0 = bench_now_ns();

	if (sys->settle) {
		out->settled = BENCH_NUM(sys->settle(h, BENCH_SETTLE_MAX_S) == 1);
		if (!out->settled.v)
			fprintf(stderr, "%s: background work still running after %.0f s: figures "
			        "read unsettled\n", sys->name, BENCH_SETTLE_MAX_S);
	} else {
		struct timespec ts = {0, (long)(BENCH_SETTLE_PAUSE_S * 1e9)};
		while (nanosleep(&ts, &ts) != 0)
			;
		out->settled.has = 0;
	}
	out->settle_s = BENCH_NUM((double)(bench_now_ns() - t0) / 1e9);
}

int bench_nproc(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int bench_pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % bench_nproc(), &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0 ? 0 : -1;
}

uint64_t bench_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	unsigned long size = 0, resident = 0;
	int n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	if (n != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

void bench_json_str(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	if (n + 2 >= cap)
		return;
	buf[n++] = '"';
	for (; *s && n + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	buf[n] = 0;
}

char *bench_json_str_list(const char *const *items, int n)
{
	size_t cap = 3;
	for (int i = 0; i < n; i++)
		cap += strlen(items[i]) * 6 + 12; /* worst case: every byte a \u00XX */
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	snprintf(buf, cap, "[");
	for (int i = 0; i < n; i++) {
		if (i)
			strncat(buf, ", ", cap - strlen(buf) - 1);
		bench_json_str(buf, cap, items[i]);
	}
	strncat(buf, "]", cap - strlen(buf) - 1);
	return buf;
}

void bench_machine_json(char *buf, size_t cap)
{
	struct utsname u;
	char kernel[256] = "unknown";
	if (uname(&u) == 0)
		snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname, u.release, u.machine);
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	char model[600] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				if (c) {
					c += 2;
					c[strcspn(c, "\n")] = 0;
					snprintf(model, sizeof(model), "%s", c);
				}
				break;
			}
		fclose(f);
	}
	char os[600] = "unknown";
	f = fopen("/etc/os-release", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
				char *v = line + 12;
				v[strcspn(v, "\n")] = 0;
				if (*v == '"') {
					v++;
					v[strcspn(v, "\"")] = 0;
				}
				snprintf(os, sizeof(os), "%s", v);
			}
		fclose(f);
	}
	buf[0] = 0;
	snprintf(buf, cap, "\"cpus\": %d, \"mem_bytes\": %llu, \"kernel\": ", bench_nproc(),
	         (unsigned long long)pages * (unsigned long long)psz);
	bench_json_str(buf, cap, kernel);
	strncat(buf, ", \"compiler\": ", cap - strlen(buf) - 1);
#if defined(__clang__)
	bench_json_str(buf, cap, "clang " __clang_version__);
#elif defined(__GNUC__)
	bench_json_str(buf, cap, "gcc " __VERSION__);
#else
	bench_json_str(buf, cap, "unknown");
#endif
	strncat(buf, ", \"cpu_model\": ", cap - strlen(buf) - 1);
	bench_json_str(buf, cap, model);
	strncat(buf, ", \"os\": ", cap - strlen(buf) - 1);
	bench_json_str(buf, cap, os);
	/* the load when the file was written: other processes' share of the
	 * CPUs, to judge how noisy the run was */
	double load = -1;
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = -1;
		fclose(f);
	}
	if (load >= 0)
		snprintf(buf + strlen(buf), cap - strlen(buf), ", \"loadavg_1m\": %.2f", load);
}

void bench_progress(const struct bench_opts *o, const char *fmt, ...)
{
	if (!o->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("\r\033[K", stderr);
	vfprintf(stderr, fmt, ap);
	fflush(stderr);
	va_end(ap);
}

int bench_run_threads(int n, void *(*fn)(void *), void *args, size_t stride)
{
	pthread_t tids[BENCH_MAX_THREADS * 2];
	if (n > BENCH_MAX_THREADS * 2)
		return -1;
	int started = 0, rc = 0;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&tids[i], NULL, fn, (char *)args + (size_t)i * stride) != 0) {
			rc = -1;
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return rc;
}

int bench_parse_int_list(const char *s, int *out, int max)
{
	int n = 0;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10);
		if (end == s || a <= 0)
			return -1;
		long b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (long v = a; v <= b; v++) {
			if (n >= max)
				return -1;
			out[n++] = (int)v;
		}
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return n;
}
