/* Levelled logging: one line per message, to stderr or a file. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LOG_ENV_LEVEL "AZKV_PKCS11_LOG_LEVEL"
#define LOG_ENV_FILE  "AZKV_PKCS11_LOG_FILE"

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

static atomic_int log_level = AZKV_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file; /* NULL means stderr; guarded by log_lock */

void azkv_log_fork_prepare(void)
{
	pthread_mutex_lock(&log_lock);
}

void azkv_log_fork_release(void)
{
	pthread_mutex_unlock(&log_lock);
}

int azkv_log_level_parse(const char *name, azkv_log_level *out)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (azkv_log_level)i;
			return 0;
		}
	}
	return -1;
}

static const char *nonempty_env(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

/* The log file, opened to append (created as fopen's "a" would). Opened
 * O_NONBLOCK so that a FIFO without a reader fails at once (ENXIO) rather
 * than hang C_Initialize; then made blocking again, since a FIFO with a
 * reader (a log collector) is a fair target and must not lose lines to
 * EAGAIN. NULL with errno set on failure. */
static FILE *open_log_file(const char *path)
{
	int fd =
	        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0666);
	int flags, e;
	FILE *f;

	if (fd < 0)
		return NULL;
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 && (f = fdopen(fd, "a")))
		return f;
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}

void azkv_log_configure(const char *config_level, const char *config_file)
{
	const char *env_level = nonempty_env(LOG_ENV_LEVEL);
	const char *path = nonempty_env(LOG_ENV_FILE);
	azkv_log_level level = AZKV_LOG_WARN;
	int bad_env_level = 0;
	FILE *f = NULL;
	FILE *old;
	int open_errno = 0;

	if (env_level && azkv_log_level_parse(env_level, &level) != 0) {
		bad_env_level = 1;
		env_level = NULL;
	}
	if (!env_level && (!config_level || azkv_log_level_parse(config_level, &level) != 0))
		level = AZKV_LOG_WARN;
	if (!path)
		path = config_file;
	if (path && *path) {
		f = open_log_file(path);
		if (f)
			setvbuf(f, NULL, _IOLBF, 0);
		else
			open_errno = errno;
	}

	pthread_mutex_lock(&log_lock);
	old = log_file;
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	if (old)
		fclose(old);
	atomic_store(&log_level, (int)level);

	if (path && *path && !f)
		azkv_warn("log: cannot open log file %s: %s%s; logging to stderr", path,
		          strerror(open_errno),
		          open_errno == ENXIO ? " (a FIFO that no process reads)" : "");
	if (bad_env_level)
		azkv_warn("log: %s is not one of error, warn, info, debug, trace; ignored",
		          LOG_ENV_LEVEL);
}

void azkv_log_shutdown(void)
{
	FILE *old;

	pthread_mutex_lock(&log_lock);
	old = log_file;
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
	if (old)
		fclose(old);
}

int azkv_log_enabled(azkv_log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

/* ---------------------------------------------------------------- escaping */

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

int azkv_text_next(const char *p, size_t *len, long *cp)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned char c = s[0];
	long v;

	*len = 1;
	*cp = c;
	if (c < 0x80)
		return c < 0x20 || c == 0x7F;
	/* The shortest form only, no surrogates, nothing above U+10FFFF
	 * (RFC 3629, section 4). A NUL ends a sequence as not continuing it. */
	if (c >= 0xC2 && c <= 0xDF && is_cont(s[1])) {
		*len = 2;
		v = ((long)(c & 0x1F) << 6) | (s[1] & 0x3F);
	} else if (c >= 0xE0 && c <= 0xEF && is_cont(s[1]) && is_cont(s[2]) &&
	           !(c == 0xE0 && s[1] < 0xA0) && !(c == 0xED && s[1] > 0x9F)) {
		*len = 3;
		v = ((long)(c & 0x0F) << 12) | ((long)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
	} else if (c >= 0xF0 && c <= 0xF4 && is_cont(s[1]) && is_cont(s[2]) && is_cont(s[3]) &&
	           !(c == 0xF0 && s[1] < 0x90) && !(c == 0xF4 && s[1] > 0x8F)) {
		*len = 4;
		v = ((long)(c & 0x07) << 18) | ((long)(s[1] & 0x3F) << 12) |
		    ((long)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
	} else {
		*cp = -1;
		return 1;
	}
	*cp = v;
	return v <= 0x9F || v == 0x2028 || v == 0x2029 || (v >= 0x202A && v <= 0x202E) ||
	       (v >= 0x2066 && v <= 0x2069);
}

char *azkv_text_escape(const char *text, char *out, size_t n)
{
	size_t pos = 0, len, w;
	char esc[24];
	long cp;

	for (const char *p = text ? text : ""; *p; p += len) {
		if (!azkv_text_next(p, &len, &cp)) {
			if (pos + len >= n)
				break;
			memcpy(out + pos, p, len);
			pos += len;
			continue;
		}
		if (cp == '\n' || cp == '\r' || cp == '\t')
			snprintf(esc, sizeof(esc), "\\%c",
			         cp == '\n'   ? 'n'
			         : cp == '\r' ? 'r'
			                      : 't');
		else if (cp < 0)
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)*p);
		else if (cp < 0x80)
			snprintf(esc, sizeof(esc), "\\x%02lx", cp);
		else
			snprintf(esc, sizeof(esc), "\\u%04lx", cp);
		w = strlen(esc);
		if (pos + w >= n)
			break;
		memcpy(out + pos, esc, w);
		pos += w;
	}
	out[pos] = '\0';
	return out;
}

/* ---------------------------------------------------------------- the sink */

void azkv_log(azkv_log_level level, const char *fmt, ...)
{
	char msg[1024];
	char safe[4 * sizeof(msg)];
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	FILE *out;

	if ((int)level < AZKV_LOG_ERROR || level > AZKV_LOG_TRACE || !azkv_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	azkv_text_escape(msg, safe, sizeof(safe));

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	pthread_mutex_lock(&log_lock);
	out = log_file ? log_file : stderr;
	fprintf(out, "azkv-pkcs11 %s.%03ldZ [%ld:%ld] %s: %s\n", stamp, ts.tv_nsec / 1000000L,
	        (long)getpid(), (long)syscall(SYS_gettid), level_names[level], safe);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
}
