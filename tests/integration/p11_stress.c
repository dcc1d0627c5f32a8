/* Many threads share sessions and keys: p11_stress KEY ROUNDS
 *
 * 16 threads over the vault RSA key KEY (slot 0), ROUNDS rounds each:
 *   - 4 share one session, taking turns under the application's mutex, as
 *     PKCS#11 asks of a session used by several threads;
 *   - 2 share another session without any care (a misuse): each call must
 *     still answer a clean CKR_* (an operation another thread started is
 *     CKR_OPERATION_ACTIVE or CKR_OPERATION_NOT_INITIALIZED), never crash;
 *   - 9 open and close their own sessions;
 *   - 1 closes every session of the slot and refreshes the token
 *     (AZKV_RefreshToken) while the others work, so any call may meet a
 *     closed session or a destroyed session key.
 * A round finds the key, reads an attribute, wraps a known AES key,
 * unwraps it through the vault and reads the value back (it must be the
 * known one), and signs and verifies. Every answer is either CKR_OK or one
 * a concurrent close or a shared session explains; a wrong value, or any
 * other answer, fails.
 *
 * Run by tests/integration/threads.sh (also under ThreadSanitizer) with
 * AZKV_MODULE and AZKV_PKCS11_CONFIG set. */
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azkv/azkv-pkcs11.h"
#include "p11_load.h"

#define N_THREADS    16
#define N_SERIALISED 4 /* threads 0-3 */
#define N_CARELESS   2 /* threads 4-5 */
#define CLOSER       (N_THREADS - 1)

static CK_FUNCTION_LIST *p11;
static AZKV_CMK_FUNCTION_LIST *cmk;
static const char *key_label;
static int rounds;
static const unsigned char known[32] = "p11_stress: a known AES-256 key";

/* The two shared sessions; a thread that finds one closed opens its
 * successor (the first to do so wins). */
static _Atomic CK_SESSION_HANDLE shared[2];
static pthread_mutex_t serialised_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int workers_left = N_THREADS - 1;
static atomic_int failures, ok_calls, closed_calls, busy_calls, closes, full_rounds;

static CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
static CK_MECHANISM oaep_mech = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
static CK_MECHANISM sign_mech = {CKM_SHA256_RSA_PKCS, NULL, 0};

typedef struct {
	int id;
	_Atomic CK_SESSION_HANDLE *shared; /* the shared session, or NULL for its own */
	int careless;                      /* shares it without the mutex */
} worker_arg;

/* Answers a concurrent C_CloseAllSessions explains: the session or a
 * session object is gone. */
static int closed_under_us(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID ||
	       rv == CKR_WRAPPING_KEY_HANDLE_INVALID || rv == CKR_UNWRAPPING_KEY_HANDLE_INVALID;
}

/* Answers another thread's operation on a shared session explains. */
static int shared_session_busy(CK_RV rv)
{
	return rv == CKR_OPERATION_ACTIVE || rv == CKR_OPERATION_NOT_INITIALIZED;
}

/* Counts rv; 0 when the round should stop here (not a failure unless
 * reported as one). */
static int tally(const worker_arg *w, const char *what, CK_RV rv)
{
	if (rv == CKR_OK) {
		atomic_fetch_add(&ok_calls, 1);
		return 1;
	}
	if (closed_under_us(rv)) {
		atomic_fetch_add(&closed_calls, 1);
		return 0;
	}
	if (w->careless && shared_session_busy(rv)) {
		atomic_fetch_add(&busy_calls, 1);
		return 0;
	}
	printf("not ok - thread %d: %s: 0x%lx\n", w->id, what, (unsigned long)rv);
	atomic_fetch_add(&failures, 1);
	return 0;
}

/* The key's object of class cls; CKR_OBJECT_HANDLE_INVALID when there is
 * none, as when the token was refreshed under the search. */
static CK_RV find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *h)
{
	return p11_find(p11, s, cls, key_label, h);
}

/* One round on session s. */
static void round_on(const worker_arg *w, CK_SESSION_HANDLE s)
{
	CK_RV rv;
	p11_known_aes k;
	CK_OBJECT_HANDLE pub, priv, dek, back;
	unsigned char wrapped[512], value[64], sig[512], modulus[512];
	CK_ULONG wlen = sizeof(wrapped), slen = sizeof(sig);
	CK_ATTRIBUTE mod = {CKA_MODULUS, modulus, sizeof(modulus)};
	CK_ATTRIBUTE val = {CKA_VALUE, value, sizeof(value)};
	const unsigned char data[] = "p11_stress: data to sign";

	p11_known_aes_init(&k, known, sizeof(known));
	if (!tally(w, "find the public key", find(s, CKO_PUBLIC_KEY, &pub)) ||
	    !tally(w, "find the private key", find(s, CKO_PRIVATE_KEY, &priv)) ||
	    !tally(w, "C_GetAttributeValue(CKA_MODULUS)",
	           p11->C_GetAttributeValue(s, pub, &mod, 1)) ||
	    !tally(w, "C_CreateObject", p11->C_CreateObject(s, k.create, 4, &dek)) ||
	    !tally(w, "C_WrapKey", p11->C_WrapKey(s, &oaep_mech, pub, dek, wrapped, &wlen)) ||
	    !tally(w, "C_UnwrapKey",
	           p11->C_UnwrapKey(s, &oaep_mech, priv, wrapped, wlen, k.unwrap, 4, &back)) ||
	    !tally(w, "C_GetAttributeValue(CKA_VALUE)", p11->C_GetAttributeValue(s, back, &val, 1)))
		return;
	if (val.ulValueLen != sizeof(known) || memcmp(value, known, sizeof(known)) != 0) {
		printf("not ok - thread %d: the unwrapped key is not the wrapped one\n", w->id);
		atomic_fetch_add(&failures, 1);
		return;
	}
	tally(w, "C_DestroyObject", p11->C_DestroyObject(s, back));
	tally(w, "C_DestroyObject", p11->C_DestroyObject(s, dek));
	if (!tally(w, "C_SignInit", p11->C_SignInit(s, &sign_mech, priv)) ||
	    !tally(w, "C_Sign", p11->C_Sign(s, (CK_BYTE *)data, sizeof(data), sig, &slen)) ||
	    !tally(w, "C_VerifyInit", p11->C_VerifyInit(s, &sign_mech, pub)))
		return;
	rv = p11->C_Verify(s, (CK_BYTE *)data, sizeof(data), sig, slen);
	if (rv == CKR_SIGNATURE_INVALID) {
		printf("not ok - thread %d: the signature does not verify\n", w->id);
		atomic_fetch_add(&failures, 1);
		return;
	}
	if (tally(w, "C_Verify", rv))
		atomic_fetch_add(&full_rounds, 1);
}

/* Replaces the shared session closed under us, unless another thread did. */
static void reopen(const worker_arg *w, CK_SESSION_HANDLE old)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO info;
	if (p11->C_GetSessionInfo(old, &info) != CKR_SESSION_HANDLE_INVALID)
		return;
	if (!tally(w, "C_OpenSession",
	           p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)))
		return;
	if (!atomic_compare_exchange_strong(w->shared, &old, s))
		tally(w, "C_CloseSession", p11->C_CloseSession(s));
}

static void *worker(void *p)
{
	const worker_arg *w = p;
	for (int i = 0; i < rounds; i++) {
		if (w->shared == NULL) {
			CK_SESSION_HANDLE s;
			if (!tally(w, "C_OpenSession",
			           p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
			                              NULL, &s)))
				continue;
			round_on(w, s);
			CK_RV rv = p11->C_CloseSession(s);
			if (rv != CKR_SESSION_HANDLE_INVALID) /* closed by the closer */
				tally(w, "C_CloseSession", rv);
		} else if (w->careless) {
			CK_SESSION_HANDLE s = atomic_load(w->shared);
			round_on(w, s);
			reopen(w, s);
		} else {
			pthread_mutex_lock(&serialised_lock);
			CK_SESSION_HANDLE s = atomic_load(w->shared);
			round_on(w, s);
			reopen(w, s);
			pthread_mutex_unlock(&serialised_lock);
		}
	}
	atomic_fetch_sub(&workers_left, 1);
	return NULL;
}

/* Closes every session and refreshes the token every 150 ms while the
 * workers run: often enough to land in the middle of their calls, seldom
 * enough that most rounds complete. */
static void *closer(void *p)
{
	const worker_arg *w = p;
	const struct timespec pause = {0, 150 * 1000 * 1000};
	while (atomic_load(&workers_left) > 0) {
		nanosleep(&pause, NULL);
		tally(w, "C_CloseAllSessions", p11->C_CloseAllSessions(0));
		tally(w, "AZKV_RefreshToken", cmk->AZKV_RefreshToken(0));
		atomic_fetch_add(&closes, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	pthread_t threads[N_THREADS];
	worker_arg wargs[N_THREADS];
	CK_SESSION_HANDLE s0, s1;
	CK_RV rv;

	if (argc != 3 || (rounds = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: p11_stress KEY ROUNDS\n");
		return 2;
	}
	key_label = argv[1];
	if ((p11 = p11_load("p11_stress")) == NULL || (cmk = p11_load_cmk()) == NULL) {
		fprintf(stderr, "p11_stress: cannot load AZKV_MODULE\n");
		return 2;
	}
	if ((rv = p11->C_Initialize(&args)) != CKR_OK ||
	    (rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s0)) !=
	            CKR_OK ||
	    (rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s1)) !=
	            CKR_OK) {
		printf("not ok - C_Initialize / C_OpenSession: 0x%lx\n", (unsigned long)rv);
		return 1;
	}
	atomic_store(&shared[0], s0);
	atomic_store(&shared[1], s1);
	for (int i = 0; i < N_THREADS; i++) {
		wargs[i] = (worker_arg){.id = i};
		if (i < N_SERIALISED)
			wargs[i].shared = &shared[0];
		else if (i < N_SERIALISED + N_CARELESS)
			wargs[i] = (worker_arg){.id = i, .shared = &shared[1], .careless = 1};
		if (pthread_create(&threads[i], NULL, i == CLOSER ? closer : worker, &wargs[i]) !=
		    0) {
			printf("not ok - pthread_create\n");
			return 1;
		}
	}
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(threads[i], NULL);
	p11->C_Finalize(NULL);
	printf("# %d complete rounds; %d calls answered CKR_OK, %d met a closed session or "
	       "object, %d met a busy shared session; %d close-all-and-refresh rounds\n",
	       atomic_load(&full_rounds), atomic_load(&ok_calls), atomic_load(&closed_calls),
	       atomic_load(&busy_calls), atomic_load(&closes));
	if (atomic_load(&failures) != 0)
		return 1;
	if (atomic_load(&full_rounds) == 0) {
		printf("not ok - no round completed: the test tested nothing\n");
		return 1;
	}
	printf("ok - %d threads x %d rounds: no wrong value, no unexpected answer\n", N_THREADS - 1,
	       rounds);
	return 0;
}
