/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/auth.c: -Y, memcached's ASCII authentication.
 *
 * The file holds "user:password" lines. A connection is unauthenticated
 * until it sends a set whose data is "user password" (key, flags and
 * exptime ignored; protocol.txt, "Authentication"); the worker asks
 * spc_srv_auth_check for the reply. memcached 1.6.18's replies, recorded:
 *   good pair                   STORED (even with noreply)
 *   wrong user or password      CLIENT_ERROR authentication failure
 *   no space in the token       CLIENT_ERROR bad authentication token format
 *   any other command first     CLIENT_ERROR unauthenticated
 * The connection stays open after a failure; the next set may try again.
 * The password ends at the first space after it, as in memcached.
 *
 * The table is built once at start-up and only read afterwards, so the
 * workers share it without a lock. Comparison is constant-time in the
 * password bytes (no early exit), so the reply time says nothing of how
 * much of a password matched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/auth.h"
#include "splitcache.h"

#define AUTH_FILE_MAX (1u << 20)
#define AUTH_ENTRIES_MAX 4096

struct auth_entry {
	char *user, *pass;
	size_t ulen, plen;
};

struct spc_srv_auth {
	struct auth_entry *e;
	size_t n;
	char *text; /* the file; entries point into it */
};

void spc_srv_auth_free(struct spc_srv_auth *a)
{
	if (!a)
		return;
	free(a->e);
	free(a->text);
	free(a);
}

/* The file's text, NUL-terminated. */
static int read_all(const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return SPC_ESYS;
	buf = malloc(AUTH_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return SPC_ENOMEM;
	}
	n = fread(buf, 1, AUTH_FILE_MAX, f);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		errno = e;
		return SPC_ESYS;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	return SPC_OK;
}

int spc_srv_auth_load(const char *path, struct spc_srv_auth **out)
{
	struct spc_srv_auth *a = calloc(1, sizeof *a);
	char *line, *save = NULL;
	int rc;

	if (!a)
		return SPC_ENOMEM;
	rc = read_all(path, &a->text);
	if (rc == SPC_OK) {
		a->e = calloc(AUTH_ENTRIES_MAX, sizeof *a->e);
		if (!a->e)
			rc = SPC_ENOMEM;
	}
	if (rc != SPC_OK) {
		spc_srv_auth_free(a);
		return rc;
	}
	for (line = strtok_r(a->text, "\r\n", &save); line && a->n < AUTH_ENTRIES_MAX;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon || colon == line || !colon[1])
			continue; /* not "user:password" */
		*colon = '\0';
		a->e[a->n].user = line;
		a->e[a->n].ulen = (size_t)(colon - line);
		a->e[a->n].pass = colon + 1;
		a->e[a->n].plen = strlen(colon + 1);
		a->n++;
	}
	if (a->n == 0) {
		spc_srv_auth_free(a);
		return SPC_EINVAL;
	}
	*out = a;
	return SPC_OK;
}

/* Equal bytes, in time that depends on the lengths only. */
static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;
	size_t i;

	for (i = 0; i < alen && i < blen; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

const char *spc_srv_auth_check(const struct spc_srv_auth *a, const char *tok, size_t len,
			       bool *ok)
{
	const char *sp = memchr(tok, ' ', len), *pass;
	size_t ulen, plen, i;
	bool found = false;

	*ok = false;
	if (!sp || sp == tok)
		return "CLIENT_ERROR bad authentication token format\r\n";
	ulen = (size_t)(sp - tok);
	pass = sp;
	while (pass < tok + len && *pass == ' ')
		pass++;
	plen = 0;
	while (pass + plen < tok + len && pass[plen] != ' ')
		plen++;
	if (plen == 0)
		return "CLIENT_ERROR bad authentication token format\r\n";
	for (i = 0; i < a->n; i++)
		found |= same(tok, ulen, a->e[i].user, a->e[i].ulen) &
			 same(pass, plen, a->e[i].pass, a->e[i].plen);
	*ok = found;
	return found ? "STORED\r\n" : "CLIENT_ERROR authentication failure\r\n";
}
