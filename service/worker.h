/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/worker.h: the worker threads (worker.c): one event loop each,
 * accepting and handing connections over to conn.c.
 */
#ifndef SPC_SRV_WORKER_H
#define SPC_SRV_WORKER_H

struct spc_server;

/* Creates and starts srv->opt.threads workers serving srv->listeners.
 * Returns SPC_OK, SPC_ENOMEM, SPC_ESYS. Context: main thread. */
int spc_srv_workers_start(struct spc_server *srv);
/* Asks every worker to stop (close listeners, finish in-flight requests,
 * flush, close), waits for them and frees them. Context: main thread. */
void spc_srv_workers_stop(struct spc_server *srv);

#endif /* SPC_SRV_WORKER_H */
