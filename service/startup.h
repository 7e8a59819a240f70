/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/startup.h: the start-up steps main runs in order (startup.c):
 * -d, -P, -r, -k, -u, -Y and the hash seed.
 */
#ifndef SPC_SRV_STARTUP_H
#define SPC_SRV_STARTUP_H

#include <stddef.h>
#include <stdint.h>

#include "service/server.h"

/* p, or p made absolute under the working directory (into buf) so that
 * it names the same file after -d's chdir("/"). Context: main thread. */
const char *spc_srv_keep_path(const char *p, char *buf, size_t cap);
/* -d: daemon(3). Returns 0, -1 (logged). Context: main, before threads. */
int spc_srv_detach(struct spc_server *srv);
/* -P: writes the pid. Returns 0, -1 (logged). Context: main thread. */
int spc_srv_write_pid_file(struct spc_server *srv, const char *path);
/* -r: raises the core limit; a failure is a warning. Context: main. */
void spc_srv_raise_core(struct spc_server *srv);
/* -k: mlockall as pages are touched; a failure is a warning. Context:
 * main thread, before the cache opens. */
void spc_srv_lock_memory(struct spc_server *srv);
/* --hash-seed, else 64 bits from getrandom. Context: main thread. */
uint64_t spc_srv_hash_seed(struct spc_server *srv);
/* -u: as root, switches every thread to the user (not root: ignored).
 * Returns 0, -1 (logged). Context: main thread, after bind and open. */
int spc_srv_drop_privileges(struct spc_server *srv);
/* -Y: loads srv->auth. Returns 0, -1 (logged). Context: main thread. */
int spc_srv_load_auth(struct spc_server *srv);

#endif /* SPC_SRV_STARTUP_H */
