/* C_Initialize, C_Finalize and C_GetInfo: the module's life. The state
 * they build is in module_state.c, which every layer reads.
 *
 * C_Initialize reads the configuration and prepares the HTTP client and
 * credential, but does no network I/O: tokens read their vaults when first
 * searched. What a forked child does with this state is in fork.c. */
#include "module.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fork.h"
#include "log.h"
#include "object.h"
#include "rv.h"
#include "session.h"
#include "token.h"

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
	int absent;

	/* What reading the configuration logs goes where and as it says. */
	azkv_log_hold();
	if (azkv_config_load_module(path, azkv_config_path_is_default(), &azkv_g.cfg, &absent,
	                            &err) != AZKV_OK) {
		azkv_log_configure(NULL, NULL, NULL);
		return azkv_rv_from_err(&err, AZKV_CTX_INIT, "C_Initialize: configuration");
	}
	azkv_log_configure(azkv_g.cfg->log_level, azkv_g.cfg->log_file, azkv_g.cfg->log_format);
	if ((rv = azkv_lock_new(&azkv_g.lock)) != CKR_OK)
		return rv;
	if (absent) {
		azkv_info("no configuration at %s (and AZKV_PKCS11_CONFIG is not set): no slots",
		          path);
		return CKR_OK;
	}
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

	if ((rv = azkv_fork_handlers_register()) != CKR_OK)
		return rv;
	pthread_mutex_lock(&azkv_init_mutex);
	if (azkv_g.initialized && azkv_g.pid == getpid()) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if (azkv_g.initialized) /* a child the fork handlers did not see */
		azkv_fork_abandon_parent_state(0);
	if (args != NULL && args->pReserved != NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = azkv_lock_setup(args)) != CKR_OK)
		goto out;
	azkv_log_configure(NULL, NULL, NULL);
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
	pthread_mutex_unlock(&azkv_init_mutex);
	return rv;
}

CK_RV C_Finalize(void *reserved)
{
	CK_RV rv = CKR_OK;
	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&azkv_init_mutex);
	if (!azkv_module_ready())
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	else
		teardown();
	azkv_log_shutdown();
	pthread_mutex_unlock(&azkv_init_mutex);
	return rv;
}

/* The Cryptoki version a caller sees matches the function list it uses. */
static CK_RV get_info(CK_INFO *info, CK_VERSION version)
{
	AZKV_REQUIRE_INIT_AS("C_GetInfo");
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
