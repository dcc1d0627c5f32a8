/* Levelled logging for the core, the module and the tools.
 * Level comes from AZKV_PKCS11_LOG_LEVEL, else the config, else "warn";
 * output goes to AZKV_PKCS11_LOG_FILE, else the config's file, else stderr.
 * Never pass a token, secret or key byte to these functions. */
#ifndef AZKV_LOG_H
#define AZKV_LOG_H

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

void azkv_log(azkv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define azkv_error(...) azkv_log(AZKV_LOG_ERROR, __VA_ARGS__)
#define azkv_warn(...)  azkv_log(AZKV_LOG_WARN, __VA_ARGS__)
#define azkv_info(...)  azkv_log(AZKV_LOG_INFO, __VA_ARGS__)
#define azkv_debug(...) azkv_log(AZKV_LOG_DEBUG, __VA_ARGS__)
#define azkv_trace(...) azkv_log(AZKV_LOG_TRACE, __VA_ARGS__)

#endif
