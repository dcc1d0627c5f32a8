/* The response headers azkv_http_send hands its callers, from a one-shot
 * HTTP server on loopback (http:// to a loopback address is allowed):
 * with several of one name the first, but the first Bearer challenge of
 * several WWW-Authenticate, and x-ms-retry-after-ms over retry-after-ms
 * wherever each comes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"

static const char canned[] = "HTTP/1.1 401 Unauthorized\r\n"
                             "WWW-Authenticate: Basic realm=\"x\"\r\n"
                             "retry-after-ms: 5\r\n"
                             "X-Ms-Request-Id: first\r\n"
                             "WWW-Authenticate: Bearer authorization=\"a\"\r\n"
                             "WWW-Authenticate: Bearer authorization=\"b\"\r\n"
                             "x-ms-request-id: second\r\n"
                             "x-ms-retry-after-ms: 7\r\n"
                             "Retry-After: 3\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 2\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "{}";

/* Accepts one connection (waiting at most 5 s), reads the request's head
 * and answers canned. */
static void *serve_once(void *arg)
{
	int lfd = *(int *)arg, fd;
	char buf[4096];
	size_t got = 0;
	struct pollfd p = {.fd = lfd, .events = POLLIN};

	if (poll(&p, 1, 5000) != 1 || (fd = accept(lfd, NULL, NULL)) < 0)
		return NULL;
	p.fd = fd;
	while (got < sizeof(buf) - 1 && poll(&p, 1, 5000) == 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	if (write(fd, canned, sizeof(canned) - 1) < 0)
		perror("test_http_headers: write");
	close(fd);
	return NULL;
}

static void headers_picked_as_callers_expect(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	azkv_http_config hc = {.connect_timeout_ms = 5000, .timeout_ms = 10000};
	azkv_http *http = NULL;
	azkv_http_response resp;
	azkv_err err;
	pthread_t server;
	char url[64];

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/h", (unsigned)ntohs(a.sin_port));
	assert_int_equal(pthread_create(&server, NULL, serve_once, &lfd), 0);

	assert_int_equal(azkv_http_global_init(&err), AZKV_OK);
	assert_int_equal(azkv_http_new(&hc, &http, &err), AZKV_OK);
	assert_int_equal(azkv_http_request(http, "GET", url, NULL, NULL, 0, &resp, &err), AZKV_OK);
	pthread_join(server, NULL);
	close(lfd);

	assert_int_equal(resp.status, 401);
	assert_string_equal(resp.www_authenticate, "Bearer authorization=\"a\"");
	assert_string_equal(resp.retry_after_ms, "7");
	assert_string_equal(resp.retry_after, "3");
	assert_string_equal(resp.request_id, "first");
	assert_string_equal(resp.content_type, "application/json");
	assert_null(resp.location);
	assert_null(resp.azure_async_operation);
	assert_string_equal(resp.body, "{}");
	azkv_http_response_free(&resp);
	azkv_http_free(http);
	azkv_http_global_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(headers_picked_as_callers_expect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
