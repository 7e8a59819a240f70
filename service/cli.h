/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/cli.h: command-line helpers the programs of service/ share.
 * Public header only; nothing here keeps state.
 */
#ifndef SPC_SRV_CLI_H
#define SPC_SRV_CLI_H

#include <stdbool.h>

#include "splitcache.h"

/* The value of option `opt` at argv[*i]: "--opt=value" or "--opt value"
 * for long options, "-xvalue" or "-x value" for short ones (advancing *i
 * past a separate value; "" when it is missing). NULL when argv[*i] is not
 * this option. Context: any thread. */
const char *spc_cli_value(int argc, char **argv, int *i, const char *opt);

/* "indexer", "view" or "split" into *out; false for anything else. */
bool spc_cli_mode(const char *v, enum spc_mode *out);

/* A view share strictly between 0 and 1 into *out; false otherwise. */
bool spc_cli_share(const char *v, double *out);

#endif /* SPC_SRV_CLI_H */
