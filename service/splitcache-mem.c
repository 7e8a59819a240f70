/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * splitcache-mem: prints the memory report splitcache would open with.
 *
 *   splitcache-mem [--json] [--root DIR] [--budget SIZE] [--max-budget SIZE]
 *                  [--mode indexer|view|split] [--view-share F] [--prefault]
 *
 * It runs spc_mem_probe(): detection of every source (files under DIR when
 * --root is given), the reservation ladder (reserved, then released) and
 * the split, without opening a cache. Exit status: 0 on success, 2 with a
 * one-line message for a bad argument or a bad SPLITCACHE_MEMORY, 1 for
 * anything else. Uses the public header only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/cli.h"
#include "splitcache.h"

static const char usage[] =
	"usage: splitcache-mem [--json] [--root DIR] [--budget SIZE] [--max-budget SIZE]\n"
	"                      [--mode indexer|view|split] [--view-share F] [--prefault]\n"
	"SIZE: 65536, 512K, 512M, 1G, 2T. SPLITCACHE_MEMORY=SIZE sets the budget too.\n";

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "splitcache-mem: %s%s%s (try --help)\n", what, arg ? ": " : "",
	        arg ? arg : "");
	return 2;
}

static int parse_args(int argc, char **argv, struct spc_config *cfg, int *json)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "--json") == 0) {
			*json = 1;
		} else if (strcmp(argv[i], "--prefault") == 0) {
			cfg->prefault = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			exit(0);
		} else if ((v = spc_cli_value(argc, argv, &i, "--root"))) {
			if (!*v)
				return bad("--root needs a directory", NULL);
			cfg->root = v;
		} else if ((v = spc_cli_value(argc, argv, &i, "--budget"))) {
			if (spc_parse_size(v, &cfg->budget_bytes) != SPC_OK || cfg->budget_bytes == 0)
				return bad("--budget is not a size", v);
		} else if ((v = spc_cli_value(argc, argv, &i, "--max-budget"))) {
			if (spc_parse_size(v, &cfg->max_budget_bytes) != SPC_OK ||
			    cfg->max_budget_bytes == 0)
				return bad("--max-budget is not a size", v);
		} else if ((v = spc_cli_value(argc, argv, &i, "--mode"))) {
			if (!spc_cli_mode(v, &cfg->mode))
				return bad("--mode must be indexer, view or split", v);
		} else if ((v = spc_cli_value(argc, argv, &i, "--view-share"))) {
			if (!spc_cli_share(v, &cfg->view_share))
				return bad("--view-share must be a number strictly between 0 and 1", v);
		} else {
			return bad("unknown argument", argv[i]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct spc_config cfg;
	struct spc_mem_report *r;
	size_t cap = 1 << 16, needed = 0;
	char *buf;
	int json = 0, rc;

	spc_config_init(&cfg);
	rc = parse_args(argc, argv, &cfg, &json);
	if (rc)
		return rc;
	r = calloc(1, sizeof *r);
	if (!r) {
		fprintf(stderr, "splitcache-mem: out of memory\n");
		return 1;
	}
	rc = spc_mem_probe(&cfg, r);
	if (rc == SPC_ECONFIG || rc == SPC_EINVAL) {
		fprintf(stderr, "splitcache-mem: %s\n",
		        r->n_warnings ? r->warnings[0] : spc_strerror(rc));
		free(r);
		return 2;
	}
	if (rc != SPC_OK) {
		fprintf(stderr, "splitcache-mem: %s\n", spc_strerror(rc));
		free(r);
		return 1;
	}
	for (;;) {
		buf = malloc(cap);
		if (!buf) {
			fprintf(stderr, "splitcache-mem: out of memory\n");
			free(r);
			return 1;
		}
		rc = json ? spc_mem_report_json(r, buf, cap, &needed)
		          : spc_mem_report_text(r, buf, cap, &needed);
		if (rc != SPC_ERANGE)
			break;
		free(buf);
		cap = needed + 1;
	}
	fputs(buf, stdout);
	free(buf);
	free(r);
	return rc == SPC_OK ? 0 : 1;
}
