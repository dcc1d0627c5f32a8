/* C_Initialize, C_Finalize, C_GetInfo and the module-wide state.
 *
 * C_Initialize reads the configuration and prepares the HTTP client and
 * credential, but does no network I/O: tokens read their vaults when first
 * searched.
 *
 * fork(): a child sees the module as not initialised (every call answers
 * CKR_CRYPTOKI_NOT_INITIALIZED) until it calls C_Initialize, which then
 * builds a state of its own; the parent goes on unaffected. The
 * pthread_atfork handlers below do it:
 *   prepare  takes init_mutex, the module lock, the token cache's lock,
 *            the socket list's lock and the log's, in the order every
 *            other path takes them (none is held across network I/O, so
 *            fork waits little),
 *            so that the child's copy of what they guard is consistent;
 *   parent   releases them;
 *   child    (its only thread) abandons the parent's state: it wipes in
 *            place the client secret, certificate password, cached tokens,
 *            session key values and what the sessions' active operations
 *            hold (azkv_op_wipe: an AES operation's copy of the key and its
 *            buffered data, a decryption result kept for a call again),
 *            closes its copies of the module's sockets with close(2), and
 *            releases the locks (it holds them since prepare; the
 *            abandoned ones are never taken again).
 * The child handler frees, allocates and takes nothing: in the child of a
 * multi-threaded process only async-signal-safe work is safe, whatever
 * allocator the application uses, and the parent's libcurl, OpenSSL and
 * lock states may be mid-change. So nothing is torn down: a
 * curl_share_cleanup would also send TLS close_notify on the parent's
 * connections. The abandoned memory stays reachable (azkv_g_inherited)
 * for leak checkers. Not wiped: what OpenSSL holds (a certificate
 * credential's key, the TLS sessions' keys, and the EVP_CIPHER_CTX of an
 * AES-GCM encryption or AES-CBC-PAD operation (op_aes_*.c; made by its
 * first update), whose key schedule begins with the key itself:
 * EVP_CIPHER_CTX_reset frees OpenSSL's context, and re-keying it would
 * run OpenSSL in the child), the state of an operation a call was using at the fork (held
 * outside its session, perhaps mid-change), a federated token file's
 * text, and freed copies. */
#include "module.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "object.h"
#include "rv.h"
#include "session.h"
#include "token.h"

azkv_module azkv_g;
/* A forked child's copy of its parent's state: abandoned, not freed, and
 * kept reachable (not static, so the store stays) for leak checkers. */
azkv_module azkv_g_inherited;

/* Serialises C_Initialize and C_Finalize against each other and fork. */
static pthread_mutex_t init_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_failed;
/* Set by fork_prepare when it took the state's locks (the state was this
 * process's), for the parent and child handlers. */
static int fork_locked_state;

int azkv_module_ready(void)
{
	return azkv_g.initialized && azkv_g.pid == getpid();
}

void azkv_pad_field(unsigned char *field, size_t size, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	memset(field, ' ', size);
	memcpy(field, s, len < size ? len : size);
}

/* In a forked child: see the top of this file. locked: fork_prepare took
 * the state's locks, so what they guard is consistent (and the
 * credential's lock is released here). Otherwise (C_Initialize in a child
 * made without the fork handlers, a raw clone(), or a state its parent
 * had itself inherited) the lock may have been held by a thread that is
 * gone: the cached tokens are left alone, the sockets open
 * (close-on-exec), and the rest is wiped as it stands. */
static void abandon_parent_state(int locked)
{
	azkv_sessions_forget();
	azkv_objects_forget();
	if (locked && azkv_g.cred != NULL)
		azkv_credential_fork_child(azkv_g.cred);
	if (azkv_g.cfg != NULL) {
		azkv_secret_str_wipe(azkv_g.cfg->credential.client_secret);
		azkv_secret_str_wipe(azkv_g.cfg->credential.certificate_password);
	}
	azkv_g_inherited = azkv_g;
	memset(&azkv_g, 0, sizeof(azkv_g));
}

/* The state's locks are taken only while it is this process's: a child
 * that never re-initialised has none of its own. */
static int state_is_ours(void)
{
	return azkv_g.initialized && azkv_g.pid == getpid();
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&init_mutex);
	fork_locked_state = state_is_ours();
	if (fork_locked_state) {
		azkv_lock_acquire(azkv_g.lock);
		azkv_credential_fork_prepare(azkv_g.cred);
	}
	azkv_http_fork_prepare();
	azkv_log_fork_prepare();
}

static void fork_parent(void)
{
	azkv_log_fork_release();
	azkv_http_fork_parent();
	if (fork_locked_state) {
		azkv_credential_fork_parent(azkv_g.cred);
		azkv_lock_release(azkv_g.lock);
	}
	pthread_mutex_unlock(&init_mutex);
}

static void fork_child(void)
{
	azkv_log_fork_release();
	azkv_http_fork_child();
	if (fork_locked_state) {
		azkv_lock *lock = azkv_g.lock;
		abandon_parent_state(1);
		azkv_lock_release(lock);
	} else if (azkv_g.initialized) {
		abandon_parent_state(0);
	}
	pthread_mutex_unlock(&init_mutex);
}

static void register_atfork(void)
{
	atfork_failed = pthread_atfork(fork_prepare, fork_parent, fork_child) != 0;
}

static void teardown(void)
{
	azkv_sessions_clear();
	azkv_objects_clear();
	for (size_t i = 0; i < azkv_g.n_tokens; i++)
		azkv_token_cleanup(&azkv_g.tokens[i]);
	free(azkv_g.tokens);
	azkv_credential_free(azkv_g.cred);
	azkv_http_free(azkv_g.http);
	if (azkv_g.http != NULL)
		azkv_http_global_cleanup();
	azkv_config_free(azkv_g.cfg);
	azkv_lock_free(azkv_g.lock);
	memset(&azkv_g, 0, sizeof(azkv_g));
}

static CK_RV setup(int no_threads)
{
	azkv_err err;
	CK_RV rv;
	const char *path = azkv_config_path();

	if (azkv_config_load(path, &azkv_g.cfg, &err) != AZKV_OK)
		return azkv_rv_from_err(&err, AZKV_CTX_INIT, "C_Initialize: configuration");
	azkv_log_configure(azkv_g.cfg->log_level, azkv_g.cfg->log_file);
	if ((rv = azkv_lock_new(&azkv_g.lock)) != CKR_OK)
		return rv;
	if (azkv_http_global_init(&err) != AZKV_OK)
		return azkv_rv_from_err(&err, AZKV_CTX_INIT, "C_Initialize: HTTP");
	if (azkv_http_new(&azkv_g.cfg->http, &azkv_g.http, &err) != AZKV_OK) {
		azkv_http_global_cleanup();
		return azkv_rv_from_err(&err, AZKV_CTX_INIT, "C_Initialize: HTTP");
	}
	if (no_threads) {
		azkv_http_resolve_in_caller(azkv_g.http);
		azkv_info("CKF_LIBRARY_CANT_CREATE_OS_THREADS: host names are looked up in the "
		          "calling thread");
	}
	if (azkv_credential_new(&azkv_g.cfg->credential, azkv_g.cfg->cloud,
	                        azkv_g.cfg->http.retry.max_retries, azkv_g.http, &azkv_g.cred,
	                        &err) != AZKV_OK)
		return azkv_rv_from_err(&err, AZKV_CTX_INIT, "C_Initialize: credential");
	azkv_g.tokens = calloc(azkv_g.cfg->n_vaults, sizeof(*azkv_g.tokens));
	if (azkv_g.tokens == NULL)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < azkv_g.cfg->n_vaults; i++) {
		azkv_g.n_tokens = i + 1;
		rv = azkv_token_init(&azkv_g.tokens[i], i, &azkv_g.cfg->vaults[i]);
		if (rv != CKR_OK)
			return rv;
	}
	azkv_info("initialised from %s: %zu vault(s)", path, azkv_g.n_tokens);
	return CKR_OK;
}

CK_RV C_Initialize(void *init_args)
{
	const CK_C_INITIALIZE_ARGS *args = init_args;
	CK_RV rv;

	if (pthread_once(&atfork_once, register_atfork) != 0 || atfork_failed)
		return CKR_HOST_MEMORY;
	pthread_mutex_lock(&init_mutex);
	if (azkv_g.initialized && azkv_g.pid == getpid()) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if (azkv_g.initialized) /* a child the fork handlers did not see */
		abandon_parent_state(0);
	if (args != NULL && args->pReserved != NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = azkv_lock_setup(args)) != CKR_OK)
		goto out;
	azkv_log_configure(NULL, NULL);
	/* CKF_LIBRARY_CANT_CREATE_OS_THREADS: GnuTLS (p11tool, and any GnuTLS
	 * application) first initialises every module with it and
	 * CKF_OS_LOCKING_OK (gnutls commit aa5f15a87, in Debian 12's
	 * 3.7.9-2+deb12u7), and p11-kit's managed module passes the caller's
	 * arguments on unchanged; that GnuTLS treats CKR_NEED_TO_CREATE_THREADS
	 * as fatal (fixed upstream later, f6680ada0). The only threads the
	 * module could cause are libcurl's resolver threads, so host names are
	 * looked up in the calling thread instead (azkv_http_resolve_in_caller).
	 * The azure_cli credential runs az with posix_spawn: a process, not a
	 * thread. */
	rv = setup(args != NULL && (args->flags & CKF_LIBRARY_CANT_CREATE_OS_THREADS));
	if (rv != CKR_OK) {
		teardown();
		goto out;
	}
	azkv_g.pid = getpid();
	azkv_g.initialized = 1;
out:
	pthread_mutex_unlock(&init_mutex);
	return rv;
}

CK_RV C_Finalize(void *reserved)
{
	CK_RV rv = CKR_OK;
	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&init_mutex);
	if (!azkv_module_ready())
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	else
		teardown();
	azkv_log_shutdown();
	pthread_mutex_unlock(&init_mutex);
	return rv;
}

/* The Cryptoki version a caller sees matches the function list it uses. */
static CK_RV get_info(CK_INFO *info, CK_VERSION version)
{
	AZKV_REQUIRE_INIT();
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion = version;
	azkv_pad_field(info->manufacturerID, sizeof(info->manufacturerID), "azkv-pkcs11");
	azkv_pad_field(info->libraryDescription, sizeof(info->libraryDescription),
	               "Azure Key Vault PKCS#11 module");
	info->libraryVersion = (CK_VERSION){0, 1};
	return CKR_OK;
}

CK_RV C_GetInfo(CK_INFO *info)
{
	return get_info(info, (CK_VERSION){2, 40});
}

CK_RV azkv_get_info_v3(CK_INFO *info)
{
	return get_info(info, (CK_VERSION){3, 0});
}
