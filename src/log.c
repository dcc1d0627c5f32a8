/* Levelled logging: one line per message, to stderr or a file. */
#include "log.h"

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

void azkv_log_configure(const char *config_level, const char *config_file)
{
	const char *env_level = nonempty_env(LOG_ENV_LEVEL);
	const char *path = nonempty_env(LOG_ENV_FILE);
	azkv_log_level level = AZKV_LOG_WARN;
	int bad_env_level = 0;
	FILE *f = NULL;
	FILE *old;

	if (env_level && azkv_log_level_parse(env_level, &level) != 0) {
		bad_env_level = 1;
		env_level = NULL;
	}
	if (!env_level && (!config_level || azkv_log_level_parse(config_level, &level) != 0))
		level = AZKV_LOG_WARN;
	if (!path)
		path = config_file;
	if (path && *path) {
		f = fopen(path, "ae"); /* append, close-on-exec */
		if (f)
			setvbuf(f, NULL, _IOLBF, 0);
	}

	pthread_mutex_lock(&log_lock);
	old = log_file;
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	if (old)
		fclose(old);
	atomic_store(&log_level, (int)level);

	if (path && *path && !f)
		azkv_warn("log: cannot open log file %s; logging to stderr", path);
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

void azkv_log(azkv_log_level level, const char *fmt, ...)
{
	char msg[1024];
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

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	pthread_mutex_lock(&log_lock);
	out = log_file ? log_file : stderr;
	fprintf(out, "azkv-pkcs11 %s.%03ldZ [%ld:%ld] %s: %s\n", stamp, ts.tv_nsec / 1000000L,
	        (long)getpid(), (long)syscall(SYS_gettid), level_names[level], msg);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
}
