/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/auth.h: -Y, memcached's ASCII authentication file (auth.c).
 * Depends on libc and the library's status codes only.
 */
#ifndef SPC_SRV_AUTH_H
#define SPC_SRV_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct spc_srv_auth; /* the user:password pairs of the file */

/* Reads memcached's auth file: "user:password" lines. Returns SPC_OK,
 * SPC_EINVAL (no valid line), SPC_ENOMEM, SPC_ESYS (cannot read: errno
 * kept). Ownership: *out freed with spc_srv_auth_free. Context: main. */
int spc_srv_auth_load(const char *path, struct spc_srv_auth **out);
void spc_srv_auth_free(struct spc_srv_auth *a);
/* Checks a "user password" token (the data of the authenticating set).
 * Returns the reply memcached sends: "STORED\r\n",
 * "CLIENT_ERROR authentication failure\r\n" or "CLIENT_ERROR bad
 * authentication token format\r\n"; *ok tells success. Context: any
 * thread (the table is read-only once loaded). */
const char *spc_srv_auth_check(const struct spc_srv_auth *a, const char *tok, size_t len,
			       bool *ok);

#endif /* SPC_SRV_AUTH_H */
