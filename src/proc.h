/* Runs a program, never through a shell, with a time limit, and captures
 * what it writes: how the Azure CLI credential asks `az` for a token. The
 * child gets stdin from /dev/null, default signal handling and none of
 * our file descriptors but its pipes. */
#ifndef AZKV_PROC_H
#define AZKV_PROC_H

#include <stddef.h>

#include "status.h"

typedef struct azkv_proc_result {
	int exit_code; /* the program's exit code; -1 if it was killed or is unknown */
	int timed_out; /* killed after the time limit */
	char *out;     /* stdout, NUL-terminated; may hold a secret (wiped on free) */
	size_t out_len;
	char *err;       /* stderr, NUL-terminated */
	int spawn_errno; /* why it could not be started (ENOENT: not on PATH), or 0 */
} azkv_proc_result;

/* Runs argv[0] (looked up on PATH, as execvp does) with argv. A program that cannot be
 * started is AZKV_ERR_UNAVAILABLE (res->spawn_errno says why); output beyond
 * max_output bytes per stream is AZKV_ERR_PROTOCOL. Any exit code is
 * AZKV_OK: the caller reads res. */
azkv_rc azkv_proc_run(const char *const *argv, long timeout_ms, size_t max_output,
                      azkv_proc_result *res, azkv_err *err);

/* Wipes and frees the output. */
void azkv_proc_result_free(azkv_proc_result *res);

#endif
