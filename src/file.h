/* Small files the core reads whole: the configuration, secret files, the
 * federated token file, Azure Arc's key file, the certificates shown as
 * PKCS#11 objects. One reader, so that each takes the same care: a
 * regular file only, a size limit, and a buffer wiped when the read fails
 * (the caller wipes it after use, azkv_file_free). http.ca_file, which
 * libcurl opens itself, is checked by the same rule (azkv_file_check);
 * the log file, written not read, is opened non-blocking too (log.c).
 *
 * The rules, per kind of file:
 * - Every file is opened O_NONBLOCK | O_NOCTTY | O_CLOEXEC and must be a
 *   regular file (fstat of the open descriptor): a FIFO, a device or a
 *   directory is refused at once, never waited on, so a FIFO cannot hang
 *   C_Initialize, and no descriptor leaks into a program the host execs.
 * - Symbolic links are followed for every file an administrator names
 *   (the configuration, client_secret_file, certificate_file,
 *   certificate_password_file, the federated token file): config
 *   management links /etc files, and Kubernetes mounts every Secret,
 *   ConfigMap and projected token as a link (NAME -> ..data/NAME), as the
 *   Azure SDKs and OpenSSH follow them for keys. A link only moves the
 *   question to the file it names, whose mode is the one checked below.
 * - O_NOFOLLOW where a peer names the file: Azure Arc's key file, named by
 *   the agent's 401 (cred_mi.c: realpath into the key directory, then
 *   opened O_NOFOLLOW so that it cannot be swapped for a link after).
 * - A secret file (client secret, certificate with its private key,
 *   certificate password; the configuration when it holds a client
 *   secret) that its group or every user may read gets a warning naming
 *   the file and the chmod to run (azkv_file_warn_unprotected). A warning,
 *   not a refusal, unlike OpenSSH: a refusal in C_Initialize would stop
 *   the host application, and Kubernetes mounts Secrets 0644 by default.
 *   The federated token file is not checked: kubelet owns it and its
 *   tokens live an hour. */
#ifndef AZKV_FILE_H
#define AZKV_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Reads path (opened O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
 * open_flags, e.g. O_NOFOLLOW) into a NUL-terminated buffer of at most
 * max bytes: *out (caller wipes and frees, e.g. azkv_file_free), *out_len,
 * *st. Returns 0, or an errno value: EINVAL when not a regular file, EFBIG
 * when larger than max, ELOOP when O_NOFOLLOW met a link. */
int azkv_file_read(const char *path, int open_flags, size_t max, char **out, size_t *out_len,
                   struct stat *st);

/* Wipes the first len bytes of buf (from azkv_file_read: pass its
 * *out_len) and frees it. By length, not up to the first NUL as
 * azkv_secret_str_free: a PKCS#12 file is binary and has NULs early.
 * NULL-safe. */
void azkv_file_free(char *buf, size_t len);

/* Checks, without reading it, that path opens for reading as a regular
 * file by the rules above (0, or the errno value of azkv_file_read), for a
 * file that a library opens by name itself: http.ca_file, which libcurl
 * and OpenSSL reopen with a blocking open on each TLS handshake, so a FIFO
 * must be refused up front. */
int azkv_file_check(const char *path, int open_flags, struct stat *st);

/* The text of an azkv_file_read error, for messages. */
const char *azkv_file_error(int e);

/* Logs a warning when the secret file path (st from azkv_file_read) may be
 * read by its group or by every user: what names the secret ("client
 * secret"), and the message names the chmod that fixes it. Returns 1 when
 * it warned, else 0. */
int azkv_file_warn_unprotected(const char *path, const struct stat *st, const char *what);

#endif
