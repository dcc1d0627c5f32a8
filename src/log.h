/* Levelled logging for the core, the module and the tools.
 * Level comes from AZKV_PKCS11_LOG_LEVEL, else the config, else "warn";
 * output goes to AZKV_PKCS11_LOG_FILE, else the config's file, else stderr.
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

/* Applies the settings: the environment wins over the arguments, which
 * may be NULL. Safe to call more than once (e.g. at each C_Initialize). */
void azkv_log_configure(const char *config_level, const char *config_file);

/* Closes a log file opened by azkv_log_configure and resets to stderr. */
void azkv_log_shutdown(void);

/* fork() (pthread_atfork): prepare takes the log's lock, so that a line
 * another thread was writing does not leave it held in the child; the
 * parent and the child release it. */
void azkv_log_fork_prepare(void);
void azkv_log_fork_release(void);

int azkv_log_enabled(azkv_log_level level);

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

#define azkv_error(...) azkv_log(AZKV_LOG_ERROR, __VA_ARGS__)
#define azkv_warn(...)  azkv_log(AZKV_LOG_WARN, __VA_ARGS__)
#define azkv_info(...)  azkv_log(AZKV_LOG_INFO, __VA_ARGS__)
#define azkv_debug(...) azkv_log(AZKV_LOG_DEBUG, __VA_ARGS__)
#define azkv_trace(...) azkv_log(AZKV_LOG_TRACE, __VA_ARGS__)

#endif
