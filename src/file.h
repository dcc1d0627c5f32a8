/* Small files the core reads whole: the configuration, secret files, the
 * federated token file, Azure Arc's key file. One reader, so that each
 * takes the same care: a regular file only, a size limit, and a buffer
 * wiped when the read fails (the caller wipes it after use). */
#ifndef AZKV_FILE_H
#define AZKV_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Reads path (opened O_RDONLY | O_CLOEXEC | open_flags, e.g. O_NONBLOCK
 * so that a FIFO cannot block, O_NOFOLLOW) into a NUL-terminated buffer
 * of at most max bytes: *out (caller wipes and frees), *out_len, *st.
 * Returns 0, or an errno value: EINVAL when not a regular file, EFBIG
 * when larger than max. */
int azkv_file_read(const char *path, int open_flags, size_t max, char **out, size_t *out_len,
                   struct stat *st);

/* The text of an azkv_file_read error, for messages. */
const char *azkv_file_error(int e);

#endif
