/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One recorded exchange with memcached (memcached_corpus.h holds them):
 * what was sent, the exact bytes memcached sent back, whether it closed
 * the connection, and whether the reply is the same however the input is
 * split into reads. Shared by the unit tests and tests/service. */
#ifndef SPC_TEST_CORPUS_CASE_H
#define SPC_TEST_CORPUS_CASE_H

#include <stddef.h>

struct corpus_case {
	const char *name;
	const char *in;
	size_t in_len;
	const char *out;
	size_t out_len;
	int closed;
	int split_ok;
};

#endif /* SPC_TEST_CORPUS_CASE_H */
