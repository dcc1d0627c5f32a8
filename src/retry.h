/* The retry policy of the Key Vault and ARM request loops (keyvault.c,
 * arm.c) and of the managed-identity token requests (cred_mi.c): which
 * answers are worth another attempt, how long to wait (the server's hint,
 * else exponential backoff with full jitter) and the operation's deadline.
 * The loops themselves call http.c for each attempt. */
#ifndef AZKV_RETRY_H
#define AZKV_RETRY_H

#include "config.h"
#include "http.h"

/* Retry-After in whole seconds or as an HTTP date (the time left until
 * it, 0 when past), else default_ms; capped at cap_ms. Values out of
 * range or unparsable count as absent. */
long azkv_retry_after_ms(const char *retry_after, long default_ms, long cap_ms);

/* azkv_retry_policy is in config.h. The defaults: 3 retries, 800 ms doubling (the Azure SDKs'
 * base), 30 s per delay, 120 s per operation. */
extern const azkv_retry_policy azkv_retry_default;

/* Whether a response status is worth another attempt: 429 and the
 * transient 5xx 500, 502, 503, 504 (not 501 or 505, which will not
 * change). */
int azkv_retry_status(long status);

/* The wait before retry number attempt + 1 (attempt counts from 0).
 * The server's hint wins when resp has one: x-ms-retry-after-ms or
 * retry-after-ms (milliseconds), else Retry-After (seconds or an HTTP
 * date); it is capped at max_delay_ms. Without one, full jitter: a
 * uniform draw in [0, min(max_delay_ms, base_delay_ms * 2^attempt)],
 * where rnd in [0, 1) is the draw (pass azkv_retry_random()). resp may
 * be NULL (a connection failure). */
long azkv_retry_delay_ms(const azkv_retry_policy *p, int attempt, const azkv_http_response *resp,
                         double rnd);

/* A uniform draw in [0, 1) for azkv_retry_delay_ms (thread-safe). */
double azkv_retry_random(void);

/* Milliseconds on the monotonic clock, for deadlines. */
long azkv_now_ms(void);

/* What is left until deadline (monotonic ms) for the next request's
 * timeout_ms: at least 1; 0 (the client's timeout) when deadline is 0. */
long azkv_retry_time_left(long deadline);

/* Decides one retry of a request loop: whether retry number attempt + 1
 * may be made before deadline (monotonic ms; 0: none) and, if so, logs
 * why at warn level (what names the call; resp's status and request id
 * or, with no status, the transport failure in err), frees resp and
 * sleeps. Returns
 * 1 after sleeping, 0 when the retries or the deadline are spent (then
 * resp is untouched and err, when not NULL and no response is at hand,
 * says that the deadline stopped it). */
int azkv_retry_wait(const azkv_retry_policy *p, int attempt, long deadline, const char *what,
                    azkv_http_response *resp, azkv_err *err);

/* Sleeps ms milliseconds, resuming after signals. */
void azkv_sleep_ms(long ms);

#endif
