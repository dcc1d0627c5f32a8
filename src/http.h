/* HTTPS client on libcurl. One azkv_http is shared by all threads. It
 * keeps a pool of easy handles: a request takes an idle one (or a new one
 * when all are busy), and gives it back when it ends, so the pool holds as
 * many handles as requests were in flight at once (up to 32 idle). Each
 * handle keeps its own live connection(s) and TLS sessions between
 * requests; only the DNS cache is shared. No lock is held during a
 * transfer. TLS is always verified. Plain http:// is refused unless the
 * host is a loopback address (127.0.0.0/8, ::1, localhost). */
#ifndef AZKV_HTTP_H
#define AZKV_HTTP_H

#include <stddef.h>

#include "config.h"
#include "status.h"

typedef struct azkv_http azkv_http;

typedef struct azkv_http_response {
	long status;
	char *body; /* NUL-terminated, owned; "" when empty */
	size_t body_len;
	char *www_authenticate;      /* owned or NULL */
	char *retry_after;           /* owned or NULL */
	char *retry_after_ms;        /* x-ms-retry-after-ms or retry-after-ms, owned or NULL */
	char *request_id;            /* x-ms-request-id, owned or NULL */
	char *azure_async_operation; /* Azure-AsyncOperation (ARM), owned or NULL */
	char *location;              /* Location, owned or NULL */
	char *content_type;          /* Content-Type, owned or NULL */
	/* After a transport failure (AZKV_ERR_NETWORK): whether the request
	 * may have reached the server, which decides if a call that changes
	 * something may be sent again. */
	int maybe_sent;
} azkv_http_response;

/* Needs curl_global_init done (azkv_http_global_init). */
azkv_rc azkv_http_new(const azkv_http_config *cfg, azkv_http **out, azkv_err *err);
void azkv_http_free(azkv_http *http);

/* Prepares an OpenSSL SSL_CTX (libcurl hands each new one to us) with
 * SSL_OP_CLEANSE_PLAINTEXT: OpenSSL wipes the plaintext of each TLS record
 * once used, so bearer tokens, client secrets and unwrapped key bytes do
 * not stay in its freed buffers. Returns 0, or -1 if the option did not
 * hold. */
int azkv_http_tls_ctx_setup(void *ssl_ctx);

/* fork() (pthread_atfork): prepare takes the socket list's lock; the
 * parent releases it; the child, its only thread, closes its copies of
 * every socket libcurl had open (close(2) only: no TLS goodbye on the
 * parent's connections, those of the pooled handles included; no
 * allocation) and releases it. Every azkv_http in the child, its pool
 * with it, is then unusable and must be abandoned, not freed. */
void azkv_http_fork_prepare(void);
void azkv_http_fork_parent(void);
void azkv_http_fork_child(void);

/* For an application that set CKF_LIBRARY_CANT_CREATE_OS_THREADS: from
 * now on each request looks the host it connects to up in the calling
 * thread and hands libcurl the addresses (CURLOPT_RESOLVE), so that
 * libcurl's threaded resolver (Debian's: AsynchDNS without c-ares) never
 * starts a thread. Call before the first request. */
void azkv_http_resolve_in_caller(azkv_http *http);

/* Once per process, before any thread uses azkv_http; refcounted. */
azkv_rc azkv_http_global_init(azkv_err *err);
void azkv_http_global_cleanup(void);

/* What one request may set beyond its method and URL; 0 / NULL members
 * take the defaults. */
typedef struct azkv_http_options {
	const char *const *headers; /* NULL-terminated "Name: value" list */
	const char *body;           /* NULL: no body */
	size_t body_len;
	long timeout_ms;         /* the whole request, at most the client's; 0: the client's */
	long connect_timeout_ms; /* at most the client's; 0: the client's */
	int allow_imds;          /* plain http:// to the IMDS address (managed identity) */
	/* On a new connection: libcurl silently sends a request again when a
	 * reused connection turns out closed, which must not happen to a call
	 * that changes something (create, rotate, import, delete). */
	int no_resend;
	int attempt; /* for the log: 1, 2, ... in the caller's retry loop; 0: not known */
} azkv_http_options;

/* Sends one request; no retries here. opts may be NULL. The URL must be
 * allowed (azkv_http_url_allowed, or azkv_http_url_allowed_imds with
 * allow_imds). */
azkv_rc azkv_http_send(azkv_http *http, const char *method, const char *url,
                       const azkv_http_options *opts, azkv_http_response *resp, azkv_err *err);

/* Sends one request; no retries here. headers: NULL-terminated list of
 * "Name: value" strings, may be NULL. body may be NULL (no body). A
 * response with any HTTP status is AZKV_OK; a transport failure is
 * AZKV_ERR_NETWORK with curl's reason and the host in err->message.
 * Logs method, host, URL path, status, latency and request id at info
 * level (azkv_log_http_event), never the query, headers or bodies. */
azkv_rc azkv_http_request(azkv_http *http, const char *method, const char *url,
                          const char *const *headers, const char *body, size_t body_len,
                          azkv_http_response *resp, azkv_err *err);

void azkv_http_response_free(azkv_http_response *resp);

/* 1 if url is https://, or http:// to a loopback host; 0 otherwise. */
int azkv_http_url_allowed(const char *url);

/* 1 if url has origin's scheme, host and port (compared parsed, default
 * ports filled in) and no user info: where a token for origin may go
 * (a nextLink, Location or Azure-AsyncOperation URL). */
int azkv_http_same_origin(const char *origin, const char *url);

/* As azkv_http_url_allowed, and also http:// to the Azure Instance
 * Metadata Service (169.254.169.254), which serves only plain HTTP. */
int azkv_http_url_allowed_imds(const char *url);

/* azkv_http_send with "Authorization: Bearer token" (token NULL: none, as
 * the first request to a vault, before its challenge) and JSON Accept /
 * Content-Type headers, as Azure's REST APIs take them; the header holding
 * the token is wiped after the request. timeout_ms (> 0)
 * bounding this request (what is left of an operation's deadline), and
 * no_resend for a call that must not reach the server twice, and attempt
 * for the log (azkv_http_options). */
azkv_rc azkv_http_request_json(azkv_http *http, const char *method, const char *url,
                               const char *token, const char *body, long timeout_ms, int no_resend,
                               int attempt, azkv_http_response *resp, azkv_err *err);

/* The retry policy the client was made with (azkv_http_config.retry). */
const azkv_retry_policy *azkv_http_retry_policy(const azkv_http *http);

/* Appends " (request id ID)" to err's message when resp has one. */
void azkv_http_err_add_request_id(azkv_err *err, const azkv_http_response *resp);

#endif
