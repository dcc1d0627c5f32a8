/* Levelled logging for the core, the module and the tools.
 * Level comes from AZKV_PKCS11_LOG_LEVEL, else the config, else "warn";
 * output goes to AZKV_PKCS11_LOG_FILE, else the config's file, else stderr;
 * the form from AZKV_PKCS11_LOG_FORMAT, else the config, else "text".
 * One line per event. Text:
 *   azkv-pkcs11 2026-12-06T16:20:01.123Z [pid:tid] info slot=0 op=C_Sign: msg
 * (slot= and op= only within a PKCS#11 call, see azkv_log_call_begin);
 * JSON: one object per line with time, level, pid, tid, slot, op, msg and,
 * for an HTTP request, its fields (azkv_log_http).
 * Every message goes through azkv_text_escape: one line, no control
 * characters, whatever a server put into it.
 * Never pass a token, secret or key byte to these functions. */
#ifndef AZKV_LOG_H
#define AZKV_LOG_H

#include <stddef.h>

typedef enum azkv_log_level {
	AZKV_LOG_ERROR = 0,
	AZKV_LOG_WARN,
	AZKV_LOG_INFO,
	AZKV_LOG_DEBUG,
	AZKV_LOG_TRACE,
} azkv_log_level;

/* Parses "error", "warn", "info", "debug", "trace" (case-insensitive).
 * Returns 0 on success, -1 if the name is unknown. */
int azkv_log_level_parse(const char *name, azkv_log_level *out);

typedef enum azkv_log_format {
	AZKV_LOG_TEXT = 0,
	AZKV_LOG_JSON,
} azkv_log_format;

/* Parses "text", "json" (case-insensitive). 0 on success, -1 if unknown. */
int azkv_log_format_parse(const char *name, azkv_log_format *out);

/* The names azkv_log_level_parse and azkv_log_format_parse take, as
 * messages list them: "error, warn, info, debug, trace" and "text, json".
 * Static strings. */
const char *azkv_log_level_names(void);
const char *azkv_log_format_names(void);

/* Applies the settings: the environment wins over the arguments, which
 * may be NULL. Safe to call more than once (e.g. at each C_Initialize). */
void azkv_log_configure(const char *config_level, const char *config_file,
                        const char *config_format);

/* Holds the lines logged from now until the next azkv_log_configure, at
 * every level, which writes those its level lets through, where and as it
 * says: the module's lines about reading its configuration (a file
 * others can read, ...) then follow that configuration's log settings,
 * "log.level": "debug" included. Up to 16 lines; more are dropped, and a
 * warning at the release says how many. */
void azkv_log_hold(void);

/* Closes a log file opened by azkv_log_configure and resets to stderr. */
void azkv_log_shutdown(void);

/* fork() (pthread_atfork): prepare takes the log's lock, so that a line
 * another thread was writing does not leave it held in the child; the
 * parent and the child release it. */
void azkv_log_fork_prepare(void);
void azkv_log_fork_release(void);

int azkv_log_enabled(azkv_log_level level);
/* 1 when the log's lines go to stderr (no log file): what else writes
 * there (azkv-cmk's progress line) must not share a line with them. */
int azkv_log_to_stderr(void);

/* Text from elsewhere (a server's error message, a request id, a name in a
 * response) must not forge a log line or reach a terminal as a control
 * sequence. azkv_text_next looks at the character at p (p[0] != '\0'):
 * it sets *len to its length in bytes and returns 1 when it must be
 * escaped: a C0 control or DEL, a C1 control (U+0080..U+009F, which some
 * terminals obey as ESC sequences), a line or paragraph separator
 * (U+2028, U+2029), a bidi override or isolate (U+202A..U+202E,
 * U+2066..U+2069: "Trojan Source"), or a byte that is not valid UTF-8;
 * else 0 (printable, valid UTF-8 is kept as it is). *cp is the code
 * point, or -1 for an invalid byte. */
int azkv_text_next(const char *p, size_t *len, long *cp);

/* Copies text into out (size n >= 1, always NUL-terminated, cut short to
 * fit) with each character azkv_text_next flags written as \n, \r, \t,
 * \xNN (other C0, DEL, invalid bytes) or \uNNNN (C1, U+2028/9, bidi), so
 * that it stays on one line. It is for reading, not reversible: a
 * backslash is kept as it is. 4 * strlen(text) + 1 bytes always suffice.
 * Returns out. */
char *azkv_text_escape(const char *text, char *out, size_t n);

void azkv_log(azkv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The PKCS#11 call a thread is in, which every line it logs meanwhile
 * carries (slot=, op=), so that an HTTP request or an error is tied to
 * the application's call. Thread-local: no lock, nothing shared. */
typedef struct azkv_log_call {
	const char *op; /* "C_Sign", a static string; NULL outside a call */
	long slot;      /* -1: not known (yet) */
} azkv_log_call;

/* Enters call op with no slot yet; returns the call the thread was in,
 * which azkv_log_call_end restores (so a nested call does not clear its
 * caller's). Use AZKV_LOG_CALL, which ends it on every return. */
azkv_log_call azkv_log_call_begin(const char *op);
void azkv_log_call_end(azkv_log_call *outer);

/* Names the current call's slot and, when op is not NULL, its operation
 * (a static string): the session lookup knows both. Nothing outside a
 * call (no AZKV_LOG_CALL in force), which nothing would end. */
void azkv_log_call_set(const char *op, unsigned long slot);

/* Declares the call's scope: from here to the function's return, lines
 * carry op (cleanup attribute, GCC and clang; "unused" because clang
 * counts a variable only its cleanup reads as unused). */
#define AZKV_LOG_CALL(op)                                                                          \
	azkv_log_call azkv_log_outer_call_ __attribute__((cleanup(azkv_log_call_end), unused)) =   \
	        azkv_log_call_begin(op)

/* One HTTP request, as http.c logs it. Never a header, body or query. */
typedef struct azkv_log_http {
	const char *method;
	const char *host;
	const char *path;       /* without the query string */
	long status;            /* 0: no response (error says why) */
	long latency_ms;        /* from sending to the end of the response */
	const char *request_id; /* Azure's x-ms-request-id, or NULL */
	int attempt;            /* 1, 2, ... in the caller's retry loop; 0: not known */
	int new_connection;     /* libcurl opened a connection for it */
	const char *error;      /* the transport failure, or NULL */
} azkv_log_http;

/* Logs one request at level: in text,
 *   http: POST host/path status=200 latency_ms=12 request_id=ID attempt=1
 *   http: GET host/path failed latency_ms=5003 attempt=2: error
 * and in JSON the same msg with method, host, path, status, latency_ms,
 * request_id, attempt, new_connection, error as fields. Costs nothing
 * when level is off. */
void azkv_log_http_event(azkv_log_level level, const azkv_log_http *ev);

#define azkv_error(...) azkv_log(AZKV_LOG_ERROR, __VA_ARGS__)
#define azkv_warn(...)  azkv_log(AZKV_LOG_WARN, __VA_ARGS__)
#define azkv_info(...)  azkv_log(AZKV_LOG_INFO, __VA_ARGS__)
#define azkv_debug(...) azkv_log(AZKV_LOG_DEBUG, __VA_ARGS__)
#define azkv_trace(...) azkv_log(AZKV_LOG_TRACE, __VA_ARGS__)

#endif
