/* fork(): a child sees the module as not initialised (every call answers
 * CKR_CRYPTOKI_NOT_INITIALIZED) until it calls C_Initialize, which then
 * builds a state of its own; the parent goes on unaffected. The
 * pthread_atfork handlers below do it:
 *   prepare  takes azkv_init_mutex, the module lock, the token cache's
 *            lock, the socket list's lock and the log's, in the order
 *            every other path takes them (none is held across network
 *            I/O, so fork waits little), so that the child's copy of what
 *            they guard is consistent;
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
 * AES-GCM encryption or an AES-ECB/CBC/CBC-PAD/CTR operation (op_aes_*.c)
 * or the EVP_MAC_CTX of an HMAC or CMAC (op_mac.c), each made by the
 * operation's first update, whose key schedule or key copy holds the key
 * itself: EVP_CIPHER_CTX_reset frees OpenSSL's context, and re-keying it
 * would run OpenSSL in the child), the EVP_MD_CTX of a digest (digest.c)
 * or a hashing signature, whose last partial block holds data digested
 * (with C_DigestKey, a key's bytes), the state of an operation a call was
 * using at the fork (held outside its session, perhaps mid-change), a
 * federated token file's text, and freed copies. */
#include "fork.h"

#include <pthread.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "object.h"
#include "session.h"

/* Not static, so the store stays. */
azkv_module azkv_g_inherited;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_failed;
/* Set by fork_prepare when it took the state's locks (the state was this
 * process's), for the parent and child handlers. */
static int fork_locked_state;

/* In a forked child: see the top of this file. locked: fork_prepare took
 * the state's locks, so what they guard is consistent (and the
 * credential's lock is released here). Otherwise (C_Initialize in a child
 * made without the fork handlers, a raw clone(), or a state its parent
 * had itself inherited) the lock may have been held by a thread that is
 * gone: the cached tokens are left alone, the sockets open
 * (close-on-exec), and the rest is wiped as it stands. */
void azkv_fork_abandon_parent_state(int locked)
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

static void fork_prepare(void)
{
	pthread_mutex_lock(&azkv_init_mutex);
	/* The state's locks are taken only while it is this process's: a
	 * child that never re-initialised has none of its own. */
	fork_locked_state = azkv_module_ready();
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
	pthread_mutex_unlock(&azkv_init_mutex);
}

static void fork_child(void)
{
	azkv_log_fork_release();
	azkv_http_fork_child();
	if (fork_locked_state) {
		azkv_lock *lock = azkv_g.lock;
		azkv_fork_abandon_parent_state(1);
		azkv_lock_release(lock);
	} else if (azkv_g.initialized) {
		azkv_fork_abandon_parent_state(0);
	}
	pthread_mutex_unlock(&azkv_init_mutex);
}

static void register_atfork(void)
{
	atfork_failed = pthread_atfork(fork_prepare, fork_parent, fork_child) != 0;
}

CK_RV azkv_fork_handlers_register(void)
{
	if (pthread_once(&atfork_once, register_atfork) != 0 || atfork_failed)
		return CKR_HOST_MEMORY;
	return CKR_OK;
}
