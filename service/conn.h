/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/conn.h: one connection's buffers and requests (conn.c), below
 * the worker that owns it (worker.c) and above the commands (exec.h).
 */
#ifndef SPC_SRV_CONN_H
#define SPC_SRV_CONN_H

#include <stdint.h>

#include "service/io.h"
#include "service/server.h"

/* What an epoll event's data points at: the first member of every source
 * a worker watches, the connections' included. */
enum spc_srv_src_kind { SPC_SRV_SRC_LISTENER, SPC_SRV_SRC_WAKE, SPC_SRV_SRC_CONN };

struct spc_srv_src {
	enum spc_srv_src_kind kind;
};

/* One connection (conn.c); its struct spc_srv_src is its first member. */
struct spc_srv_conn;

/* The connections of one worker: its epoll instance, its tally and the
 * list of what it serves. Context: that worker's thread only. */
struct spc_srv_conns {
	struct spc_server *srv;
	int epfd;
	struct spc_srv_tally *t;     /* the worker's counters and load */
	struct spc_srv_conn *head;   /* every connection it serves */
	unsigned n;
	struct spc_srv_ring *ring;   /* the worker's io_uring; NULL: epoll */
	unsigned ring_sends;         /* sends queued since the ring's last wait */
	unsigned ring_recvs;         /* receives with data handled in the last wait */
	struct spc_srv_conn *dead;   /* closed, completions outstanding */
};

/* Refuses fd as memcached refuses a connection past -c: "ERROR Too many
 * open connections", best effort, then close. Context: any thread.
 * Ownership: fd is closed. */
void spc_srv_conn_refuse(int fd);

/* Makes fd (accepted on l) a connection of set, whose load already counts
 * it; past -c it is refused (spc_srv_conn_refuse). Every
 * failure closes fd and takes it out of the load and curr_conns.
 * Context: set's worker. Ownership: fd passes to the connection. */
void spc_srv_conn_new(struct spc_srv_conns *set, int fd, const struct spc_srv_listener *l);
/* Everything one wakeup does for c at time now (unix seconds): execute
 * the requests read, send, read again up to -R times; may close c (c is
 * then freed). Context: c's worker. */
void spc_srv_conn_run(struct spc_srv_conn *c, uint64_t now);
/* Closes c and frees it. Context: c's worker. */
void spc_srv_conn_close(struct spc_srv_conn *c);
/* Closes every connection idle past the idle timeout (if any), and tells
 * every connection the time. Context: set's worker. */
void spc_srv_conns_idle(struct spc_srv_conns *set, uint64_t now);
/* Shutdown: every connection stops reading and sends what it has pending
 * (one run each; a connection with nothing pending is closed). Context:
 * set's worker. */
void spc_srv_conns_drain(struct spc_srv_conns *set);
/* Closes every connection of set. Context: set's worker. */
void spc_srv_conns_close(struct spc_srv_conns *set);

/* io_uring (conn_ring.c). One completion of a connection's request (as
 * spc_srv_ring_wait hands it over): what the connection does next is
 * queued on set->ring. Context: set's worker. */
void spc_srv_conns_ring_done(struct spc_srv_conns *set, const struct spc_srv_ring_cqe *cqe);
/* After the ring is closed (its requests gone): frees the connections
 * that waited for their completions. Context: set's worker. */
void spc_srv_conns_ring_free(struct spc_srv_conns *set);

#endif /* SPC_SRV_CONN_H */
