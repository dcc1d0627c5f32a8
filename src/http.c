/* HTTPS client on libcurl: a pool of easy handles, each keeping its own
 * connections and TLS sessions between the requests it carries, and a DNS
 * cache shared between them (CURLSH, guarded by mutexes). */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "file.h"
#include "log.h"
#include "retry.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85 or newer is needed (curl_easy_header, CURLOPT_PROTOCOLS_STR)"
#endif

#define HTTP_MAX_BODY                   (16u * 1024 * 1024)
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define HTTP_DEFAULT_TIMEOUT_MS         30000L
/* Idle easy handles kept for the next requests: as many as requests were
 * ever in flight at once, up to this; past it, a handle (and its
 * connection) is closed when its request ends. */
#define HTTP_POOL_MAX_IDLE 32
/* Live connections one handle keeps: its vault's, and one more (a token
 * endpoint, a second vault, or the new connection of a no_resend call)
 * without closing the first. */
#define HTTP_HANDLE_MAX_CONNECTS 2L
#ifndef AZKV_USER_AGENT
#define AZKV_USER_AGENT "azkv-pkcs11"
#endif

struct azkv_http {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	/* Idle easy handles, the most recently used last; pool_lock guards
	 * idle and n_idle only (held for a push or a pop, never across a
	 * transfer). */
	pthread_mutex_t pool_lock;
	int pool_lock_made;
	CURL *idle[HTTP_POOL_MAX_IDLE];
	size_t n_idle;
	char *ca_file;
	char *connect_to; /* "::HOST:PORT" as CURLOPT_CONNECT_TO wants it */
	long connect_timeout_ms;
	long timeout_ms;
	azkv_retry_policy retry;
	int resolve_in_caller; /* CKF_LIBRARY_CANT_CREATE_OS_THREADS: resolve_in_caller() */
};

/* ---------------------------------------------------------------- global */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_refs;

azkv_rc azkv_http_global_init(azkv_err *err)
{
	azkv_rc rc = AZKV_OK;
	CURLcode cc;

	pthread_mutex_lock(&global_lock);
	if (global_refs == 0) {
		cc = curl_global_init(CURL_GLOBAL_DEFAULT);
		if (cc != CURLE_OK) {
			rc = azkv_err_set(err, AZKV_ERR_NETWORK, "curl_global_init failed: %s",
			                  curl_easy_strerror(cc));
			goto out;
		}
	}
	global_refs++;
out:
	pthread_mutex_unlock(&global_lock);
	return rc;
}

static void forget_sockets(void);

void azkv_http_global_cleanup(void)
{
	pthread_mutex_lock(&global_lock);
	if (global_refs > 0 && --global_refs == 0) {
		curl_global_cleanup();
		forget_sockets();
	}
	pthread_mutex_unlock(&global_lock);
}

/* ---------------------------------------------------------------- sockets */

/* Every socket libcurl opens for us is made here: close-on-exec from the
 * start (SOCK_CLOEXEC, no window for another thread's fork+exec), and
 * listed, so that a forked child can close its copies of the parent's
 * connections, those its pooled handles keep included
 * (azkv_http_fork_child), without libcurl: a curl_easy_cleanup there
 * would send TLS close_notify on the parent's connections. The list is
 * process-wide, like the fds it holds. */
static pthread_mutex_t sockets_lock = PTHREAD_MUTEX_INITIALIZER;
static int *sockets;
static size_t n_sockets, sockets_cap;

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)clientp;
	(void)purpose;
	int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0)
		return CURL_SOCKET_BAD;
	pthread_mutex_lock(&sockets_lock);
	if (n_sockets == sockets_cap) {
		size_t cap = sockets_cap ? sockets_cap * 2 : 16;
		int *grown = realloc(sockets, cap * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&sockets_lock);
			close(fd);
			return CURL_SOCKET_BAD;
		}
		sockets = grown;
		sockets_cap = cap;
	}
	sockets[n_sockets++] = fd;
	pthread_mutex_unlock(&sockets_lock);
	return fd;
}

static int close_socket(void *clientp, curl_socket_t fd)
{
	(void)clientp;
	pthread_mutex_lock(&sockets_lock);
	for (size_t i = 0; i < n_sockets; i++)
		if (sockets[i] == fd) {
			sockets[i] = sockets[--n_sockets];
			break;
		}
	pthread_mutex_unlock(&sockets_lock);
	return close(fd);
}

/* The list itself, once every client is gone (the last global cleanup):
 * a module unloaded after C_Finalize must not leave it behind. */
static void forget_sockets(void)
{
	pthread_mutex_lock(&sockets_lock);
	free(sockets);
	sockets = NULL;
	n_sockets = sockets_cap = 0;
	pthread_mutex_unlock(&sockets_lock);
}

static void use_our_sockets(CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
}

void azkv_http_fork_prepare(void)
{
	pthread_mutex_lock(&sockets_lock);
}

void azkv_http_fork_parent(void)
{
	pthread_mutex_unlock(&sockets_lock);
}

/* The pools are not touched: their handles are abandoned with their
 * azkv_http (pool_lock may be held by a thread the child does not have),
 * their connections' sockets closed here. */
void azkv_http_fork_child(void)
{
	for (size_t i = 0; i < n_sockets; i++)
		close(sockets[i]);
	n_sockets = 0;
	pthread_mutex_unlock(&sockets_lock);
}

/* ---------------------------------------------------------------- URLs */

static int host_is_loopback(const char *host)
{
	char buf[64];
	size_t len = strlen(host);
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	/* curl reports IPv6 hosts in brackets, possibly with a zone id. */
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

#define IMDS_ADDRESS "169.254.169.254"

/* url_allowed of a URL already parsed into u. */
static int parsed_url_allowed(CURLU *u, int allow_imds)
{
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "https") == 0)
		ok = 1;
	else if (strcasecmp(scheme, "http") == 0)
		ok = host_is_loopback(host) || (allow_imds && strcmp(host, IMDS_ADDRESS) == 0);
out:
	curl_free(scheme);
	curl_free(host);
	return ok;
}

static int url_allowed(const char *url, int allow_imds)
{
	CURLU *u = curl_url();
	int ok = u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	         parsed_url_allowed(u, allow_imds);

	curl_url_cleanup(u);
	return ok;
}

int azkv_http_url_allowed(const char *url)
{
	return url_allowed(url, 0);
}

int azkv_http_url_allowed_imds(const char *url)
{
	return url_allowed(url, 1);
}

int azkv_http_same_origin(const char *origin, const char *url)
{
	CURLU *uo = curl_url(), *uu = curl_url();
	char *so = NULL, *su = NULL, *ho = NULL, *hu = NULL, *po = NULL, *pu = NULL, *user = NULL;
	int ok = 0;

	if (!uo || !uu || !origin || !url ||
	    curl_url_set(uo, CURLUPART_URL, origin, 0) != CURLUE_OK ||
	    curl_url_set(uu, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(uu, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	if (curl_url_get(uo, CURLUPART_SCHEME, &so, 0) != CURLUE_OK ||
	    curl_url_get(uu, CURLUPART_SCHEME, &su, 0) != CURLUE_OK ||
	    curl_url_get(uo, CURLUPART_HOST, &ho, 0) != CURLUE_OK ||
	    curl_url_get(uu, CURLUPART_HOST, &hu, 0) != CURLUE_OK ||
	    curl_url_get(uo, CURLUPART_PORT, &po, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(uu, CURLUPART_PORT, &pu, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	ok = strcasecmp(so, su) == 0 && strcasecmp(ho, hu) == 0 && strcmp(po, pu) == 0;
out:
	curl_free(so);
	curl_free(su);
	curl_free(ho);
	curl_free(hu);
	curl_free(po);
	curl_free(pu);
	curl_free(user);
	curl_url_cleanup(uo);
	curl_url_cleanup(uu);
	return ok;
}

/* Host and path of url for messages and the trace (no query: it may
 * carry a skiptoken), both owned (curl_free), NULL if unparsable; and
 * whether url may be requested (url_allowed), from one parse: every
 * request asks both. */
static int url_host_path_allowed(const char *url, int allow_imds, char **host, char **path)
{
	CURLU *u = curl_url();
	int ok = 0;

	*host = NULL;
	*path = NULL;
	if (!u)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_HOST, host, 0);
		curl_url_get(u, CURLUPART_PATH, path, 0);
		ok = parsed_url_allowed(u, allow_imds);
	}
	curl_url_cleanup(u);
	return ok;
}

/* ---------------------------------------------------------------- object */

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *userp)
{
	azkv_http *http = userp;

	(void)handle;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&http->locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *userp)
{
	azkv_http *http = userp;

	(void)handle;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&http->locks[data]);
}

/* "HOST:PORT" (HOST may be "[v6]") -> "::HOST:PORT", or NULL if malformed. */
static char *connect_to_option(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char *endp, *opt;
	long port;
	size_t len;

	if (!colon || colon == spec || spec[0] == ':')
		return NULL;
	if (spec[0] == '[' && colon[-1] != ']')
		return NULL;
	errno = 0;
	port = strtol(colon + 1, &endp, 10);
	if (errno || *endp || endp == colon + 1 || port < 1 || port > 65535)
		return NULL;
	len = strlen(spec) + 3;
	opt = malloc(len);
	if (opt)
		snprintf(opt, len, "::%s", spec);
	return opt;
}

azkv_rc azkv_http_new(const azkv_http_config *cfg, azkv_http **out, azkv_err *err)
{
	azkv_http *http = NULL;
	azkv_rc rc = AZKV_OK;
	struct stat st;
	int e;
	int n_locks = 0;

	*out = NULL;
	http = calloc(1, sizeof(*http));
	if (!http) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: out of memory");
		goto out;
	}
	http->connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	http->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	http->retry = azkv_retry_default;
	for (; n_locks < CURL_LOCK_DATA_LAST; n_locks++) {
		if (pthread_mutex_init(&http->locks[n_locks], NULL) != 0) {
			rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: cannot create a mutex");
			goto out;
		}
	}
	if (cfg) {
		if (cfg->connect_timeout_ms > 0)
			http->connect_timeout_ms = cfg->connect_timeout_ms;
		if (cfg->timeout_ms > 0)
			http->timeout_ms = cfg->timeout_ms;
		if (cfg->retry.base_delay_ms > 0)
			http->retry = cfg->retry;
		if (cfg->ca_file) {
			/* libcurl reopens it, blocking, on each handshake: a FIFO
			 * or a directory is refused here, at C_Initialize. */
			e = azkv_file_check(cfg->ca_file, 0, &st);
			if (e) {
				rc = azkv_err_set(
				        err, AZKV_ERR_CONFIG,
				        "http.ca_file %s cannot be read: %s (it must be a "
				        "PEM file of trust anchors)",
				        cfg->ca_file, azkv_file_error(e));
				goto out;
			}
			http->ca_file = strdup(cfg->ca_file);
			if (!http->ca_file) {
				rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: out of memory");
				goto out;
			}
		}
		if (cfg->connect_to) {
			http->connect_to = connect_to_option(cfg->connect_to);
			if (!http->connect_to) {
				rc = azkv_err_set(err, AZKV_ERR_CONFIG,
				                  "http.connect_to \"%s\" is not HOST:PORT",
				                  cfg->connect_to);
				goto out;
			}
		}
	}

	if (pthread_mutex_init(&http->pool_lock, NULL) != 0) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: cannot create a mutex");
		goto out;
	}
	http->pool_lock_made = 1;
	/* Only DNS answers are shared between the pool's handles. Not the
	 * connection cache: libcurl documents it as not thread-safe when
	 * shared by concurrent threads (CURLSHOPT_SHARE(3), KNOWN_BUGS 11.11),
	 * and shared so, 16 threads found it empty most of the time and
	 * opened a new connection for most requests. Not TLS sessions: a
	 * shared SSL_SESSION is read by one thread's handshake while another
	 * drops the last reference, ordered only by OpenSSL's atomic
	 * reference count, which ThreadSanitizer cannot see in the
	 * uninstrumented libssl (tests/integration/p11_stress reported it).
	 * Each pooled handle keeps its own of both instead (checkout_handle),
	 * used by one thread at a time. */
	http->share = curl_share_init();
	if (!http->share) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: curl_share_init failed");
		goto out;
	}
	if (curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(http->share, CURLSHOPT_USERDATA, http) != CURLSHE_OK ||
	    curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
		rc = azkv_err_set(err, AZKV_ERR_NETWORK, "http: cannot set up the curl share");
		goto out;
	}
	azkv_debug("http: ready (connect timeout %ld ms, timeout %ld ms%s%s%s%s)",
	           http->connect_timeout_ms, http->timeout_ms, http->ca_file ? ", CA file " : "",
	           http->ca_file ? http->ca_file : "", http->connect_to ? ", connect to " : "",
	           http->connect_to ? http->connect_to + 2 : "");
	*out = http;
	http = NULL;
out:
	if (http) {
		if (http->share)
			curl_share_cleanup(http->share);
		for (int i = 0; i < n_locks; i++)
			pthread_mutex_destroy(&http->locks[i]);
		if (http->pool_lock_made)
			pthread_mutex_destroy(&http->pool_lock);
		free(http->ca_file);
		free(http->connect_to);
		free(http);
	}
	return rc;
}

void azkv_http_resolve_in_caller(azkv_http *http)
{
	http->resolve_in_caller = 1;
}

void azkv_http_free(azkv_http *http)
{
	if (!http)
		return;
	/* The handles first: each holds the share (curl_share_cleanup would
	 * refuse, CURLSHE_IN_USE), and closes its connections through
	 * close_socket, which takes them off the socket list. */
	for (size_t i = 0; i < http->n_idle; i++)
		curl_easy_cleanup(http->idle[i]);
	if (http->share)
		curl_share_cleanup(http->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&http->locks[i]);
	pthread_mutex_destroy(&http->pool_lock);
	free(http->ca_file);
	free(http->connect_to);
	free(http);
}

/* ---------------------------------------------------------------- pool */

/* An easy handle for one request, the caller's until checkin_handle: the
 * most recently used idle one (its connection the likeliest still open),
 * or a new one when every handle is in use, so the pool grows to the
 * number of requests in flight at once. Its options are the defaults
 * (checkin_handle reset them); what it keeps from its earlier requests is
 * what curl_easy_reset(3) leaves: its live connections (in the handle's
 * own connection cache, libcurl's internal multi handle), its TLS session
 * cache and its share. So a request reuses the connection of the
 * previous request on that handle, or resumes its TLS session when that
 * connection has gone, and one thread at a time touches them: pool_lock
 * orders each holder after the previous one. NULL: out of memory. */
static CURL *checkout_handle(azkv_http *http)
{
	CURL *easy = NULL;

	pthread_mutex_lock(&http->pool_lock);
	if (http->n_idle > 0)
		easy = http->idle[--http->n_idle];
	pthread_mutex_unlock(&http->pool_lock);
	if (easy)
		return easy;
	easy = curl_easy_init();
	/* Set once: curl_easy_reset keeps a handle's share. */
	if (easy && curl_easy_setopt(easy, CURLOPT_SHARE, http->share) != CURLE_OK) {
		curl_easy_cleanup(easy);
		easy = NULL;
	}
	return easy;
}

/* Takes back easy once its request is over (failed or not: a failed
 * transfer leaves the handle usable, its broken connection closed). Its
 * options go back to the defaults first, so that the idle handle points
 * at none of the request's header lists (a bearer token), buffers or
 * stack, and the next request starts from nothing this one set
 * (CURLOPT_FRESH_CONNECT, CURLOPT_RESOLVE, timeouts). Past
 * HTTP_POOL_MAX_IDLE idle handles it is closed instead, with its
 * connections. */
static void checkin_handle(azkv_http *http, CURL *easy)
{
	curl_easy_reset(easy);
	pthread_mutex_lock(&http->pool_lock);
	if (http->n_idle < HTTP_POOL_MAX_IDLE) {
		http->idle[http->n_idle++] = easy;
		easy = NULL;
	}
	pthread_mutex_unlock(&http->pool_lock);
	if (easy)
		curl_easy_cleanup(easy);
}

/* ---------------------------------------------------------------- TLS */

int azkv_http_tls_ctx_setup(void *ssl_ctx)
{
	uint64_t want = SSL_OP_CLEANSE_PLAINTEXT;

	return (SSL_CTX_set_options(ssl_ctx, want) & want) == want ? 0 : -1;
}

/* libcurl's OpenSSL backend calls this with each new SSL_CTX. */
static CURLcode tls_ctx_callback(CURL *easy, void *ssl_ctx, void *userp)
{
	(void)easy;
	(void)userp;
	return azkv_http_tls_ctx_setup(ssl_ctx) == 0 ? CURLE_OK : CURLE_SSL_CIPHER;
}

/* Sets the callback on easy; a libcurl on another TLS library cannot take
 * it, which is logged once and not fatal. */
static void tls_harden(CURL *easy)
{
	static atomic_int told;

	if (curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, tls_ctx_callback) != CURLE_OK &&
	    atomic_exchange(&told, 1) == 0)
		azkv_debug("http: this libcurl is not built on OpenSSL: TLS buffers are not "
		           "wiped after use (SSL_OP_CLEANSE_PLAINTEXT)");
}

/* ---------------------------------------------------------------- request */

/* The response body; it may hold a token or key bytes, so growing it
 * wipes the old copy rather than realloc'ing. */
typedef struct body_buf {
	char *data;
	size_t len, cap;
	int too_big;
} body_buf;

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
	body_buf *b = userp;
	size_t n = size * nmemb;
	size_t cap;
	char *p;

	if (n > HTTP_MAX_BODY || b->len + n > HTTP_MAX_BODY) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = malloc(cap);
		if (!p)
			return 0;
		if (b->data) {
			memcpy(p, b->data, b->len);
			OPENSSL_cleanse(b->data, b->cap);
			free(b->data);
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* The value of header name in the last response, owned, or NULL. With
 * several, the first that starts with prefix (when given) wins. */
static char *response_header(CURL *easy, const char *name, const char *prefix)
{
	struct curl_header *h;
	size_t count, i;
	const char *pick = NULL;

	if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return NULL;
	pick = h->value;
	count = h->amount;
	for (i = 0; prefix && i < count; i++) {
		if (curl_easy_header(easy, name, i, CURLH_HEADER, -1, &h) != CURLHE_OK)
			break;
		if (strncasecmp(h->value, prefix, strlen(prefix)) == 0) {
			pick = h->value;
			break;
		}
	}
	return strdup(pick);
}

static void slist_free_wiped(struct curl_slist *list)
{
	/* Headers may carry a bearer token. */
	for (struct curl_slist *s = list; s; s = s->next)
		OPENSSL_cleanse(s->data, strlen(s->data));
	curl_slist_free_all(list);
}

/* The shorter of a client's timeout and a request's (0: none of its own). */
static long shorter_timeout(long client_ms, long request_ms)
{
	return request_ms > 0 && request_ms < client_ms ? request_ms : client_ms;
}

/* Whether a failed transfer may have delivered the request: curl got
 * past connecting and the TLS handshake (its pretransfer time is set
 * then), so the server may have read, and acted on, what was sent. */
static int request_maybe_sent(CURL *easy)
{
	curl_off_t pretransfer = 0;

	if (curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) != CURLE_OK)
		return 1;
	return pretransfer > 0;
}

/* The CURLOPT_RESOLVE entry ("HOST:PORT:ADDR[,ADDR...]") for the host
 * libcurl will connect to, looked up here, in the calling thread, so
 * that libcurl never starts the thread of its threaded resolver (for
 * CKF_LIBRARY_CANT_CREATE_OS_THREADS). libcurl (7.88, lib/hostip.c
 * Curl_resolv) uses its DNS cache first, where CURLOPT_RESOLVE puts a
 * permanent entry (replacing the previous one), and turns IP literals
 * into addresses without resolving; only other names reach the resolver.
 * The host is the connect-to host when http.connect_to is set (libcurl
 * resolves that one, lib/url.c resolve_host), else the URL's. The lookup
 * is getaddrinfo's, bounded by the system resolver's own timeouts
 * (resolv.conf), not by http.connect_timeout_ms, and runs on every
 * request (the system's cache, if any, answers repeats), so a pooled
 * handle, whose reset dropped the previous request's list, connects to
 * what this lookup found (its entry replaced the previous one in the
 * shared DNS cache); a connection the handle kept is reused as it is,
 * whatever the name resolves to now. A proxy from the environment
 * (https_proxy) would still be resolved by libcurl.
 * *out stays NULL for an IP literal. */
static azkv_rc resolve_in_caller(const azkv_http *http, const char *url, struct curl_slist **out,
                                 azkv_err *err)
{
	char host[256], port[8], entry[sizeof(host) + sizeof(port) + 16 * 48];
	char *url_host = NULL, *url_port = NULL;
	const char *spec = http->connect_to ? http->connect_to + 2 : NULL;
	const char *colon;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	unsigned char literal[sizeof(struct in6_addr)];
	CURLU *u = NULL;
	size_t n = 0, used;
	int gai;
	azkv_rc rc = AZKV_OK;

	*out = NULL;
	if (!spec) {
		u = curl_url();
		if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &url_host, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_PORT, &url_port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
			rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "http: malformed URL");
			goto out;
		}
		snprintf(host, sizeof(host), "%s", url_host);
		snprintf(port, sizeof(port), "%s", url_port);
	} else { /* "HOST:PORT", checked by connect_to_option */
		colon = strrchr(spec, ':');
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		snprintf(port, sizeof(port), "%s", colon + 1);
	}
	if (host[0] == '[' || inet_pton(AF_INET, host, literal) == 1 ||
	    inet_pton(AF_INET6, host, literal) == 1)
		goto out; /* an IPv4 or bracketed IPv6 literal: no lookup */
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		rc = azkv_err_set(err, AZKV_ERR_NETWORK,
		                  "http: cannot resolve %s (looked up by the module in the calling "
		                  "thread, as CKF_LIBRARY_CANT_CREATE_OS_THREADS asks): %s",
		                  host, gai_strerror(gai));
		goto out;
	}
	used = (size_t)snprintf(entry, sizeof(entry), "%s:%s:", host, port);
	for (const struct addrinfo *ai = res; ai && n < 16; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN];
		const void *a =
		        ai->ai_family == AF_INET
		                ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
		                : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    !inet_ntop(ai->ai_family, a, text, sizeof(text)))
			continue;
		used += (size_t)snprintf(entry + used, sizeof(entry) - used,
		                         ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
		                         n ? "," : "", text);
		n++;
	}
	if (n == 0) {
		rc = azkv_err_set(err, AZKV_ERR_NETWORK, "http: %s has no IPv4 or IPv6 address",
		                  host);
		goto out;
	}
	*out = curl_slist_append(NULL, entry);
	if (!*out)
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: out of memory");
out:
	if (res)
		freeaddrinfo(res);
	curl_free(url_host);
	curl_free(url_port);
	curl_url_cleanup(u);
	return rc;
}

azkv_rc azkv_http_request(azkv_http *http, const char *method, const char *url,
                          const char *const *headers, const char *body, size_t body_len,
                          azkv_http_response *resp, azkv_err *err)
{
	azkv_http_options opts = {.headers = headers, .body = body, .body_len = body_len};

	return azkv_http_send(http, method, url, &opts, resp, err);
}

/* One line per request at info, where an operator turns it on to quote
 * Azure's request id in a support ticket: method, host and path (never the
 * query, which may hold a SAS signature, nor a header or a body), status
 * (0 with why when no response came), latency, request id and attempt. */
static void log_request(const char *method, const char *host, const char *path, long status,
                        long latency_ms, const char *request_id, int attempt, CURL *easy,
                        const char *error)
{
	long new_conns = 0;

	if (!azkv_log_enabled(AZKV_LOG_INFO))
		return;
	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &new_conns);
	azkv_log_http_event(AZKV_LOG_INFO, &(azkv_log_http){.method = method,
	                                                    .host = host,
	                                                    .path = path ? path : "",
	                                                    .status = status,
	                                                    .latency_ms = latency_ms,
	                                                    .request_id = request_id,
	                                                    .attempt = attempt,
	                                                    .new_connection = new_conns > 0,
	                                                    .error = error});
}

azkv_rc azkv_http_send(azkv_http *http, const char *method, const char *url,
                       const azkv_http_options *opts, azkv_http_response *resp, azkv_err *err)
{
	static const azkv_http_options no_options;
	const char *const *headers;
	const char *body;
	size_t body_len;
	CURL *easy = NULL;
	struct curl_slist *hdrs = NULL, *tmp, *connect_to = NULL, *resolve = NULL;
	body_buf buf = {0};
	char errbuf[CURL_ERROR_SIZE];
	char *host = NULL, *path = NULL;
	long t0, latency_ms;
	azkv_rc rc = AZKV_OK;
	CURLcode cc = CURLE_OK;
	long status = 0;
	int is_get, is_head, maybe_sent = 0;

	memset(resp, 0, sizeof(*resp));
	errbuf[0] = '\0';
	if (!opts)
		opts = &no_options;
	headers = opts->headers;
	body = opts->body;
	body_len = opts->body_len;
	if (!http || !method || !url) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "http: missing method or URL");
		goto out;
	}
	int allowed = url_host_path_allowed(url, opts->allow_imds, &host, &path);
	if (!host) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "http: malformed URL");
		goto out;
	}
	if (!allowed) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG,
		                  "http: refusing %s to %s: only https://, or http:// to a "
		                  "loopback address, is allowed",
		                  method, host);
		goto out;
	}
	is_get = strcmp(method, "GET") == 0;
	is_head = strcmp(method, "HEAD") == 0;
	if (!is_get && !is_head && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0 &&
	    strcmp(method, "PATCH") != 0 && strcmp(method, "DELETE") != 0) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "http: unsupported method %s", method);
		goto out;
	}
	if (body && body_len > (size_t)LONG_MAX) {
		rc = azkv_err_set(err, AZKV_ERR_INVALID_ARG, "http: request body too large");
		goto out;
	}

	easy = checkout_handle(http);
	if (!easy) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: curl_easy_init failed");
		goto out;
	}
	/* Expect: 100-continue only adds a round trip for our small bodies. */
	tmp = curl_slist_append(hdrs, "Expect:");
	if (!tmp)
		goto nomem;
	hdrs = tmp;
	for (size_t i = 0; headers && headers[i]; i++) {
		tmp = curl_slist_append(hdrs, headers[i]);
		if (!tmp)
			goto nomem;
		hdrs = tmp;
	}
	if (http->connect_to) {
		connect_to = curl_slist_append(NULL, http->connect_to);
		if (!connect_to)
			goto nomem;
	}
	if (http->resolve_in_caller &&
	    (rc = resolve_in_caller(http, url, &resolve, err)) != AZKV_OK)
		goto out;

	/* Every option, each time: the handle came out of the pool reset. */
	curl_easy_setopt(easy, CURLOPT_URL, url);
	use_our_sockets(easy);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https,http");
	/* Never follow a redirect: the request may carry a bearer token, and a
	 * 3xx is answered to the caller as what it is. */
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	/* A declared Content-Length over the cap ends the transfer before the
	 * body; an undeclared one is cut by body_write. */
	curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BODY);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	tls_harden(easy);
	if (http->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, http->ca_file);
	if (connect_to)
		curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to);
	if (resolve)
		curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve);
	/* A request's own timeouts (what is left of a call's deadline, an IMDS
	 * probe's) can only shorten the client's. */
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
	                 shorter_timeout(http->connect_timeout_ms, opts->connect_timeout_ms));
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
	                 shorter_timeout(http->timeout_ms, opts->timeout_ms));
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(easy, CURLOPT_MAXCONNECTS, HTTP_HANDLE_MAX_CONNECTS);
	/* HTTP/2 where the server offers it in ALPN, else HTTP/1.1 (libcurl's
	 * default when built with nghttp2, said here). A handle carries one
	 * request at a time, so nothing is multiplexed: one connection per
	 * request in flight is what the pool keeps. */
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* A connection of its own rather than the handle's idle one, which the
	 * server may have closed meanwhile: libcurl would then send the
	 * request again on a new connection. The new one stays in the
	 * handle's cache for later requests (the oldest past
	 * HTTP_HANDLE_MAX_CONNECTS is closed). */
	if (opts->no_resend)
		curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, AZKV_USER_AGENT);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &buf);
	if (is_get) {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	} else if (is_head) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
		if (body || strcmp(method, "POST") == 0) {
			curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body ? body : "");
			curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
			                 (curl_off_t)(body ? body_len : 0));
		}
	}

	t0 = azkv_now_ms();
	cc = curl_easy_perform(easy);
	if (cc != CURLE_OK) {
		if (buf.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "%s https://%s%s: response body larger than %u bytes",
			                  method, host, path ? path : "", HTTP_MAX_BODY);
		else
			rc = azkv_err_set(err, AZKV_ERR_NETWORK, "%s %s%s (host %s%s%s): %s%s%s",
			                  method, host, path ? path : "", host,
			                  http->connect_to ? ", connecting to " : "",
			                  http->connect_to ? http->connect_to + 2 : "",
			                  curl_easy_strerror(cc), errbuf[0] ? ": " : "", errbuf);
		log_request(method, host, path, 0, azkv_now_ms() - t0, NULL, opts->attempt, easy,
		            err ? err->message : curl_easy_strerror(cc));
		maybe_sent = request_maybe_sent(easy);
		goto out;
	}
	latency_ms = azkv_now_ms() - t0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);

	resp->status = status;
	if (!buf.data) {
		buf.data = calloc(1, 1);
		if (!buf.data)
			goto nomem;
		buf.cap = 1;
	}
	resp->body = buf.data;
	resp->body_len = buf.len;
	buf.data = NULL;
	resp->www_authenticate = response_header(easy, "WWW-Authenticate", "Bearer");
	resp->retry_after = response_header(easy, "Retry-After", NULL);
	resp->retry_after_ms = response_header(easy, "x-ms-retry-after-ms", NULL);
	if (!resp->retry_after_ms)
		resp->retry_after_ms = response_header(easy, "retry-after-ms", NULL);
	resp->request_id = response_header(easy, "x-ms-request-id", NULL);
	resp->azure_async_operation = response_header(easy, "Azure-AsyncOperation", NULL);
	resp->location = response_header(easy, "Location", NULL);
	resp->content_type = response_header(easy, "Content-Type", NULL);
	log_request(method, host, path, status, latency_ms, resp->request_id, opts->attempt, easy,
	            NULL);
	goto out;

nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "http: out of memory");
out:
	if (buf.data) {
		OPENSSL_cleanse(buf.data, buf.cap);
		free(buf.data);
	}
	if (rc != AZKV_OK) {
		azkv_http_response_free(resp);
		resp->maybe_sent = maybe_sent;
	}
	/* Before the lists go: until its reset the handle points at them. */
	if (easy)
		checkin_handle(http, easy);
	slist_free_wiped(hdrs);
	curl_slist_free_all(connect_to);
	curl_slist_free_all(resolve);
	curl_free(host);
	curl_free(path);
	return rc;
}

void azkv_http_response_free(azkv_http_response *resp)
{
	if (!resp)
		return;
	if (resp->body) {
		/* Token responses and unwrapkey results are secret. */
		OPENSSL_cleanse(resp->body, resp->body_len);
		free(resp->body);
	}
	free(resp->www_authenticate);
	free(resp->retry_after);
	free(resp->retry_after_ms);
	free(resp->request_id);
	free(resp->azure_async_operation);
	free(resp->location);
	free(resp->content_type);
	memset(resp, 0, sizeof(*resp));
}

azkv_rc azkv_http_request_json(azkv_http *http, const char *method, const char *url,
                               const char *token, const char *body, long timeout_ms, int no_resend,
                               int attempt, azkv_http_response *resp, azkv_err *err)
{
	azkv_http_options opts = {.body = body,
	                          .body_len = body ? strlen(body) : 0,
	                          .timeout_ms = timeout_ms > 0 ? timeout_ms : 0,
	                          .no_resend = no_resend,
	                          .attempt = attempt};
	const char *headers[4];
	char *auth = NULL;
	size_t n = 0, len;
	azkv_rc rc;

	if (token) {
		len = strlen("Authorization: Bearer ") + strlen(token) + 1;
		auth = malloc(len);
		if (!auth)
			return azkv_err_set(err, AZKV_ERR_NOMEM, "http: out of memory");
		snprintf(auth, len, "Authorization: Bearer %s", token);
		headers[n++] = auth;
	}
	headers[n++] = "Accept: application/json";
	if (body)
		headers[n++] = "Content-Type: application/json";
	headers[n] = NULL;
	opts.headers = headers;
	rc = azkv_http_send(http, method, url, &opts, resp, err);
	azkv_secret_str_free(auth);
	return rc;
}

const azkv_retry_policy *azkv_http_retry_policy(const azkv_http *http)
{
	return http ? &http->retry : &azkv_retry_default;
}

void azkv_http_err_add_request_id(azkv_err *err, const azkv_http_response *resp)
{
	size_t len;

	if (!err || !resp->request_id)
		return;
	len = strlen(err->message);
	snprintf(err->message + len, sizeof(err->message) - len, " (request id %s)",
	         resp->request_id);
}
