/* Levelled logging: one line per message, to stderr or a file, as text
 * or as JSON (cJSON). */
#include "log.h"
#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define LOG_ENV_LEVEL  "AZKV_PKCS11_LOG_LEVEL"
#define LOG_ENV_FILE   "AZKV_PKCS11_LOG_FILE"
#define LOG_ENV_FORMAT "AZKV_PKCS11_LOG_FORMAT"

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const format_names[] = {"text", "json"};

static atomic_int log_level = AZKV_LOG_WARN;
static atomic_int log_format = AZKV_LOG_TEXT;
/* Set from azkv_log_hold to the next azkv_log_configure: every level is
 * on, since the level that counts is the one configured next. */
static atomic_int holding;
static _Thread_local azkv_log_call this_call = {NULL, -1};

static int release_held(void);
static void note_dropped(int dropped);
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
	int i = azkv_name_index(level_names, sizeof(level_names) / sizeof(level_names[0]), name);

	if (i < 0)
		return -1;
	*out = (azkv_log_level)i;
	return 0;
}

int azkv_log_format_parse(const char *name, azkv_log_format *out)
{
	int i = azkv_name_index(format_names, sizeof(format_names) / sizeof(format_names[0]), name);

	if (i < 0)
		return -1;
	*out = (azkv_log_format)i;
	return 0;
}

static char level_list[64], format_list[32];
static pthread_once_t lists_once = PTHREAD_ONCE_INIT;

static void make_lists(void)
{
	azkv_names_join(level_list, sizeof(level_list), level_names,
	                sizeof(level_names) / sizeof(level_names[0]));
	azkv_names_join(format_list, sizeof(format_list), format_names,
	                sizeof(format_names) / sizeof(format_names[0]));
}

const char *azkv_log_level_names(void)
{
	pthread_once(&lists_once, make_lists);
	return level_list;
}

const char *azkv_log_format_names(void)
{
	pthread_once(&lists_once, make_lists);
	return format_list;
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

/* A setting's index among n names: the environment variable env's value
 * if it is one of them, else config's, else fallback. *bad_env tells
 * that the variable is set to something else (then ignored). */
static int resolve_setting(const char *env, const char *config, const char *const *names, size_t n,
                           int fallback, int *bad_env)
{
	const char *value = nonempty_env(env);
	int i = azkv_name_index(names, n, value);

	*bad_env = value && i < 0;
	if (i < 0)
		i = azkv_name_index(names, n, config);
	return i < 0 ? fallback : i;
}

void azkv_log_configure(const char *config_level, const char *config_file,
                        const char *config_format)
{
	const char *path = nonempty_env(LOG_ENV_FILE);
	int bad_env_level, bad_env_format;
	int level = resolve_setting(LOG_ENV_LEVEL, config_level, level_names,
	                            sizeof(level_names) / sizeof(level_names[0]), AZKV_LOG_WARN,
	                            &bad_env_level);
	int format = resolve_setting(LOG_ENV_FORMAT, config_format, format_names,
	                             sizeof(format_names) / sizeof(format_names[0]), AZKV_LOG_TEXT,
	                             &bad_env_format);
	FILE *f = NULL;
	FILE *old;
	int open_errno = 0, dropped;

	if (!path)
		path = config_file;
	if (path && *path) {
		f = open_log_file(path);
		if (f)
			setvbuf(f, NULL, _IOLBF, 0);
		else
			open_errno = errno;
	}

	atomic_store(&log_level, level);
	atomic_store(&log_format, format);
	pthread_mutex_lock(&log_lock);
	old = log_file;
	log_file = f;
	dropped = release_held();
	pthread_mutex_unlock(&log_lock);
	if (old)
		fclose(old);

	note_dropped(dropped);
	if (path && *path && !f)
		azkv_warn("log: cannot open log file %s: %s%s; logging to stderr", path,
		          strerror(open_errno),
		          open_errno == ENXIO ? " (a FIFO that no process reads)" : "");
	if (bad_env_level)
		azkv_warn("log: %s is not one of %s; ignored", LOG_ENV_LEVEL,
		          azkv_log_level_names());
	if (bad_env_format)
		azkv_warn("log: %s is not one of %s; ignored", LOG_ENV_FORMAT,
		          azkv_log_format_names());
}

void azkv_log_shutdown(void)
{
	FILE *old;
	int dropped;

	pthread_mutex_lock(&log_lock);
	dropped = release_held();
	old = log_file;
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
	if (old)
		fclose(old);
	note_dropped(dropped);
}

/* Whether level passes the level in force, whatever is held. */
static int level_passes(azkv_log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

int azkv_log_enabled(azkv_log_level level)
{
	return level_passes(level) || atomic_load(&holding);
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

/* ---------------------------------------------------------------- the call */

azkv_log_call azkv_log_call_begin(const char *op)
{
	azkv_log_call outer = this_call;

	this_call.op = op;
	this_call.slot = -1;
	return outer;
}

void azkv_log_call_end(azkv_log_call *outer)
{
	this_call = *outer;
}

void azkv_log_call_set(const char *op, unsigned long slot)
{
	/* Outside a call nothing would end it: it would stick to the thread. */
	if (!this_call.op)
		return;
	if (op)
		this_call.op = op;
	this_call.slot = (long)slot;
}

/* ---------------------------------------------------------------- the sink */

/* Adds text (from elsewhere: a server's message, a URL's path, a request
 * id) to o as name, escaped as the text form is (azkv_text_escape), so
 * that what a viewer shows of a field is what grep finds in the text
 * form, and no invalid UTF-8 reaches a JSON parser. */
static void json_add_text(cJSON *o, const char *name, const char *text)
{
	char safe[1024];

	if (text)
		cJSON_AddStringToObject(o, name, azkv_text_escape(text, safe, sizeof(safe)));
}

/* One event's context: when, where from and in which call. */
typedef struct log_event {
	azkv_log_level level;
	char stamp[48]; /* 2026-12-06T16:20:01.123Z */
	long pid, tid;
	azkv_log_call call;
} log_event;

/* Lines held while the module reads its configuration (azkv_log_hold),
 * at every level, until azkv_log_configure applies it. Guarded by
 * log_lock, as is holding's change. */
#define HELD_MAX 16
static struct {
	int n;
	int dropped; /* held lines beyond HELD_MAX, told of at the release */
	struct {
		log_event e;
		char msg[1024];
	} lines[HELD_MAX];
} held;

/* The JSON line of one event (msg already escaped), or NULL when out of
 * memory (then the text line goes out instead). Owned by the caller. */
static char *json_line(const log_event *e, const char *msg, const azkv_log_http *ev)
{
	cJSON *o = cJSON_CreateObject();
	char *line;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "time", e->stamp);
	cJSON_AddStringToObject(o, "level", level_names[e->level]);
	cJSON_AddNumberToObject(o, "pid", (double)e->pid);
	cJSON_AddNumberToObject(o, "tid", (double)e->tid);
	if (e->call.slot >= 0)
		cJSON_AddNumberToObject(o, "slot", (double)e->call.slot);
	json_add_text(o, "op", e->call.op);
	cJSON_AddStringToObject(o, "msg", msg);
	if (ev) {
		json_add_text(o, "method", ev->method);
		json_add_text(o, "host", ev->host);
		json_add_text(o, "path", ev->path);
		if (ev->status)
			cJSON_AddNumberToObject(o, "status", (double)ev->status);
		cJSON_AddNumberToObject(o, "latency_ms", (double)ev->latency_ms);
		json_add_text(o, "request_id", ev->request_id);
		if (ev->attempt > 0)
			cJSON_AddNumberToObject(o, "attempt", ev->attempt);
		if (ev->new_connection)
			cJSON_AddBoolToObject(o, "new_connection", 1);
		json_add_text(o, "error", ev->error);
	}
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

/* Writes one event: msg (formatted, not yet escaped) in the form set and,
 * for an HTTP request, ev's fields (JSON only: the text form has them in
 * msg). Takes log_lock unless the caller holds it (locked). */
static void write_event(const log_event *e, const char *msg, const azkv_log_http *ev, int locked)
{
	char safe[4 * 1024];
	char where[64] = "";
	char *json = NULL;
	FILE *out;

	azkv_text_escape(msg, safe, sizeof(safe));
	if (atomic_load(&log_format) == AZKV_LOG_JSON)
		json = json_line(e, safe, ev);
	if (!json && e->call.slot >= 0)
		snprintf(where, sizeof(where), " slot=%ld", e->call.slot);
	if (!json && e->call.op)
		snprintf(where + strlen(where), sizeof(where) - strlen(where), " op=%.40s",
		         e->call.op);

	if (!locked)
		pthread_mutex_lock(&log_lock);
	out = log_file ? log_file : stderr;
	if (json)
		fprintf(out, "%s\n", json);
	else
		fprintf(out, "azkv-pkcs11 %s [%ld:%ld] %s%s: %s\n", e->stamp, e->pid, e->tid,
		        level_names[e->level], where, safe);
	fflush(out);
	if (!locked)
		pthread_mutex_unlock(&log_lock);
	cJSON_free(json);
}

static void emit(azkv_log_level level, const char *msg, const azkv_log_http *ev)
{
	log_event e = {.level = level,
	               .pid = (long)getpid(),
	               .tid = (long)syscall(SYS_gettid),
	               .call = this_call};
	char date[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(e.stamp, sizeof(e.stamp), "%s.%03dZ", date, (int)(ts.tv_nsec / 1000000L) % 1000);
	if (!ev) {
		pthread_mutex_lock(&log_lock);
		if (atomic_load(&holding)) {
			/* Full: dropped rather than written now, ahead of the
			 * held lines and where the configuration may not want. */
			if (held.n < HELD_MAX) {
				held.lines[held.n].e = e;
				snprintf(held.lines[held.n].msg, sizeof(held.lines[0].msg), "%s",
				         msg);
				held.n++;
			} else {
				held.dropped++;
			}
			pthread_mutex_unlock(&log_lock);
			return;
		}
		pthread_mutex_unlock(&log_lock);
	}
	/* Every level is on while lines are held (azkv_log_enabled). */
	if (level_passes(level))
		write_event(&e, msg, ev, 0);
}

void azkv_log_hold(void)
{
	pthread_mutex_lock(&log_lock);
	atomic_store(&holding, 1);
	pthread_mutex_unlock(&log_lock);
}

/* Writes the held lines that pass the level now in force, in the settings
 * now in force; with log_lock. Returns how many were dropped. */
static int release_held(void)
{
	int dropped = held.dropped;

	atomic_store(&holding, 0);
	for (int i = 0; i < held.n; i++) {
		if (level_passes(held.lines[i].e.level))
			write_event(&held.lines[i].e, held.lines[i].msg, NULL, 1);
		memset(held.lines[i].msg, 0, sizeof(held.lines[i].msg));
	}
	held.n = 0;
	held.dropped = 0;
	return dropped;
}

/* After release_held, without log_lock (azkv_warn takes it). */
static void note_dropped(int dropped)
{
	if (dropped > 0)
		azkv_warn("log: %d lines dropped while the configuration was read", dropped);
}

static int level_on(azkv_log_level level)
{
	return (int)level >= AZKV_LOG_ERROR && level <= AZKV_LOG_TRACE && azkv_log_enabled(level);
}

void azkv_log(azkv_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!level_on(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg, NULL);
}

void azkv_log_http_event(azkv_log_level level, const azkv_log_http *ev)
{
	char msg[1024], attempt[32] = "";

	if (!level_on(level))
		return;
	if (ev->attempt > 0)
		snprintf(attempt, sizeof(attempt), " attempt=%d", ev->attempt);
	if (ev->status)
		snprintf(msg, sizeof(msg), "http: %s %s%s status=%ld latency_ms=%ld%s%s%s%s",
		         ev->method, ev->host, ev->path ? ev->path : "", ev->status, ev->latency_ms,
		         ev->request_id ? " request_id=" : "", ev->request_id ? ev->request_id : "",
		         attempt, ev->new_connection ? " new_connection=1" : "");
	else
		snprintf(msg, sizeof(msg), "http: %s %s%s failed latency_ms=%ld%s%s: %s",
		         ev->method, ev->host, ev->path ? ev->path : "", ev->latency_ms, attempt,
		         ev->new_connection ? " new_connection=1" : "",
		         ev->error ? ev->error : "no response");
	emit(level, msg, ev);
}

int azkv_log_to_stderr(void)
{
	int to_stderr;

	pthread_mutex_lock(&log_lock);
	to_stderr = log_file == NULL;
	pthread_mutex_unlock(&log_lock);
	return to_stderr;
}
