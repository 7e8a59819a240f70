/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/options.h: the command line (options.c): memcached's options
 * and ours, into the handle's settings (struct spc_srv_options, server.h).
 */
#ifndef SPC_SRV_OPTIONS_H
#define SPC_SRV_OPTIONS_H

#include "service/server.h"

/* Fills *o with the defaults. Context: main thread. */
void spc_srv_options_default(struct spc_srv_options *o);
/* Parses the command line (options.c); may print --help/--version and
 * exit 0. Returns 0, or the exit status of a usage error (64, the
 * message already printed). Ownership: *o points into argv. Context:
 * main thread, once. */
int spc_srv_options_parse(int argc, char **argv, struct spc_srv_options *o);

#endif /* SPC_SRV_OPTIONS_H */
