#include "retry.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "log.h"

const azkv_retry_policy azkv_retry_default = {
        .max_retries = 3,
        /* azure-core's (JS, Python) first retry delay is 0.8 s. */
        .base_delay_ms = 800,
        .max_delay_ms = 30000,
        .deadline_ms = 120000,
};

long azkv_retry_after_ms(const char *retry_after, long default_ms, long cap_ms)
{
	long ms = default_ms, s;
	time_t when, now;
	char *end;

	if (retry_after) {
		errno = 0;
		s = strtol(retry_after, &end, 10);
		if (!errno && end != retry_after && *end == '\0' && s >= 0) {
			ms = s > cap_ms / 1000 ? cap_ms : s * 1000;
		} else if (end == retry_after && (when = curl_getdate(retry_after, NULL)) != -1) {
			/* An HTTP date (RFC 9110 10.2.3): the time left until it. */
			now = time(NULL);
			ms = when <= now                  ? 0
			     : when - now > cap_ms / 1000 ? cap_ms
			                                  : (long)(when - now) * 1000;
		}
	}
	return ms > cap_ms ? cap_ms : ms;
}

/* A header of milliseconds (x-ms-retry-after-ms), or -1. */
static long header_ms(const char *v)
{
	long ms;
	char *end;

	if (!v)
		return -1;
	errno = 0;
	ms = strtol(v, &end, 10);
	return errno || end == v || *end != '\0' || ms < 0 ? -1 : ms;
}

int azkv_retry_status(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

long azkv_retry_delay_ms(const azkv_retry_policy *p, int attempt, const azkv_http_response *resp,
                         double rnd)
{
	long cap = p->max_delay_ms > 0 ? p->max_delay_ms : azkv_retry_default.max_delay_ms;
	long ms = resp ? header_ms(resp->retry_after_ms) : -1;
	long bound = p->base_delay_ms > 0 ? p->base_delay_ms : 1;

	if (ms >= 0)
		return ms > cap ? cap : ms;
	if (resp && resp->retry_after) {
		ms = azkv_retry_after_ms(resp->retry_after, -1, cap);
		if (ms >= 0)
			return ms;
	}
	/* Full jitter ("Exponential Backoff And Jitter", AWS architecture
	 * blog): clients that failed together do not retry together. */
	for (int i = 0; i < attempt && bound < cap; i++)
		bound *= 2;
	if (bound > cap)
		bound = cap;
	if (rnd < 0 || rnd >= 1)
		rnd = 0;
	return (long)(rnd * (double)(bound + 1));
}

double azkv_retry_random(void)
{
	uint32_t r = 0;

	/* Not a secret; a failed draw only means no jitter this time. */
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0.5;
	return (double)r / 4294967296.0;
}

long azkv_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec * 1000L + t.tv_nsec / 1000000L);
}

long azkv_retry_time_left(long deadline)
{
	long left;

	if (deadline <= 0)
		return 0;
	left = deadline - azkv_now_ms();
	return left > 0 ? left : 1;
}

int azkv_retry_wait(const azkv_retry_policy *p, int attempt, long deadline, const char *what,
                    azkv_http_response *resp, azkv_err *err)
{
	long delay, now;
	char why[64];

	if (attempt >= p->max_retries)
		return 0;
	delay = azkv_retry_delay_ms(p, attempt, resp, azkv_retry_random());
	now = azkv_now_ms();
	if (deadline > 0 && now + delay >= deadline) {
		azkv_warn("%s: no retry %d: waiting %ld ms would pass the operation's deadline "
		          "(retry.deadline_ms %ld)",
		          what, attempt + 1, delay, p->deadline_ms);
		if (err && resp->status == 0) {
			char was[700];

			snprintf(was, sizeof(was), "%.690s", err->message);
			azkv_err_set(err, err->rc ? err->rc : AZKV_ERR_NETWORK,
			             "%s (gave up: retry.deadline_ms %ld reached)", was,
			             p->deadline_ms);
		}
		return 0;
	}
	if (resp->status == 429)
		snprintf(why, sizeof(why), "throttled (429)");
	else if (resp->status)
		snprintf(why, sizeof(why), "HTTP %ld", resp->status);
	else
		snprintf(why, sizeof(why), "%s",
		         err && err->rc == AZKV_ERR_NETWORK ? "connection failed"
		                                            : "token service unavailable");
	azkv_warn("%s: %s; retry %d of %d in %ld ms%s%s%s", what, why, attempt + 1, p->max_retries,
	          delay, resp->request_id ? " (request id " : "",
	          resp->request_id ? resp->request_id : "", resp->request_id ? ")" : "");
	azkv_http_response_free(resp);
	azkv_sleep_ms(delay);
	return 1;
}

void azkv_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
