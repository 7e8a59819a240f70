/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service/cli.c: see cli.h. */
#include "service/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *spc_cli_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);
	bool is_long = opt[1] == '-';

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (is_long && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return is_long ? NULL : argv[*i] + n;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

bool spc_cli_mode(const char *v, enum spc_mode *out)
{
	if (!strcmp(v, "indexer"))
		*out = SPC_MODE_INDEXER;
	else if (!strcmp(v, "view"))
		*out = SPC_MODE_VIEW;
	else if (!strcmp(v, "split"))
		*out = SPC_MODE_SPLIT;
	else
		return false;
	return true;
}

bool spc_cli_share(const char *v, double *out)
{
	char *end = NULL;
	double f;

	errno = 0;
	f = strtod(v, &end);
	if (!*v || !end || *end || errno || !(f > 0.0 && f < 1.0))
		return false;
	*out = f;
	return true;
}
