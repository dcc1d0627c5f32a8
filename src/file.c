/* Reading small files whole (see file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"

/* Opens path for reading by the rules of file.h: *fd, *st, and 0; or an
 * errno value, with no descriptor left open. */
static int open_regular(const char *path, int open_flags, int *fd, struct stat *st)
{
	int e;

	*fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | open_flags);
	if (*fd < 0)
		return errno;
	if (fstat(*fd, st) != 0)
		e = errno;
	else if (!S_ISREG(st->st_mode))
		e = EINVAL;
	else
		return 0;
	close(*fd);
	*fd = -1;
	return e;
}

int azkv_file_check(const char *path, int open_flags, struct stat *st)
{
	int fd, e = open_regular(path, open_flags, &fd, st);

	if (!e)
		close(fd);
	return e;
}

int azkv_file_read(const char *path, int open_flags, size_t max, char **out, size_t *out_len,
                   struct stat *st)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	*out = NULL;
	*out_len = 0;
	e = open_regular(path, open_flags, &fd, st);
	if (e)
		return e;
	if ((size_t)st->st_size > max) {
		e = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st->st_size + 1);
	if (!buf) {
		e = ENOMEM;
		goto out;
	}
	while (len < (size_t)st->st_size) {
		n = read(fd, buf + len, (size_t)st->st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	azkv_file_free(buf, (size_t)st->st_size + 1);
	close(fd);
	return e;
}

void azkv_file_free(char *buf, size_t len)
{
	if (!buf)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

const char *azkv_file_error(int e)
{
	if (e == EFBIG)
		return "file too large";
	if (e == EINVAL)
		return "not a regular file";
	if (e == ELOOP)
		return "a symbolic link where none is allowed, or a loop of links";
	return strerror(e);
}

int azkv_file_warn_unprotected(const char *path, const struct stat *st, const char *what)
{
	if (!(st->st_mode & (S_IRGRP | S_IROTH)))
		return 0;
	azkv_warn("%s: %s is readable by %s (mode %04o), and whoever reads it can act as this "
	          "application: run chmod go-rwx %s",
	          what, path, st->st_mode & S_IROTH ? "every user" : "its group",
	          (unsigned)(st->st_mode & 07777), path);
	return 1;
}
