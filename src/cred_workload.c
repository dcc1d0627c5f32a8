/* Workload identity (AKS and other Kubernetes with a federated identity
 * credential): the pod's service-account token, projected into a file
 * that the kubelet rotates, is the client assertion for the app. The file
 * is read again whenever it changed (its inode, size or time); between
 * changes its text is kept, wiped when replaced. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "bytes.h"
#include "cred_source.h"
#include "file.h"
#include "log.h"

#define TOKEN_FILE_MAX (64 * 1024)

typedef struct workload_source {
	azkv_entra_source entra;
	char *token_file;
	pthread_mutex_t lock; /* guards the cached file text and its identity */
	char *assertion;      /* the file's text; secret */
	struct stat seen;     /* of the file assertion was read from */
} workload_source;

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The file's text (trailing white space trimmed), owned, in *out. It is
 * opened non-blocking (a FIFO must not hang us) and must be a regular
 * file; kubelet's symlinks (..data/...) are followed. */
static azkv_rc read_token_file(const char *path, struct stat *st, char **out, azkv_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int e = azkv_file_read(path, O_NONBLOCK, TOKEN_FILE_MAX, &buf, &len, st);

	*out = NULL;
	if (e)
		return azkv_err_set(
		        err, AZKV_ERR_AUTH,
		        "workload identity: the federated token file %s cannot be read: "
		        "%s (in AKS, label the pod azure.workload.identity/use: \"true\" "
		        "and annotate its service account with "
		        "azure.workload.identity/client-id; else set "
		        "AZURE_FEDERATED_TOKEN_FILE or credential.token_file)",
		        path, azkv_file_error(e));
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (len == 0) {
		azkv_secret_str_free(buf);
		return azkv_err_set(err, AZKV_ERR_AUTH,
		                    "workload identity: the federated token file %s is empty",
		                    path);
	}
	*out = buf;
	return AZKV_OK;
}

/* A copy of the current assertion, read again if the file changed. */
static azkv_rc current_assertion(workload_source *s, char **out, azkv_err *err)
{
	struct stat st;
	char *fresh = NULL;
	azkv_rc rc = AZKV_OK;

	*out = NULL;
	pthread_mutex_lock(&s->lock);
	if (!s->assertion || stat(s->token_file, &st) != 0 || !same_file(&st, &s->seen)) {
		rc = read_token_file(s->token_file, &st, &fresh, err);
		if (rc == AZKV_OK) {
			if (s->assertion)
				azkv_debug("workload identity: %s changed; read again",
				           s->token_file);
			azkv_secret_str_free(s->assertion);
			s->assertion = fresh;
			s->seen = st;
		}
	}
	if (rc == AZKV_OK && !(*out = strdup(s->assertion)))
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "workload identity: out of memory");
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static azkv_rc workload_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                                  azkv_token *out, azkv_err *err)
{
	workload_source *s = (workload_source *)src;
	char *assertion = NULL;
	azkv_rc rc;

	memset(out, 0, sizeof(*out));
	rc = current_assertion(s, &assertion, err);
	if (rc == AZKV_OK)
		rc = azkv_entra_app_token(&s->entra.app, tenant, NULL, assertion, scope, out, err);
	azkv_secret_str_free(assertion);
	return rc;
}

static void workload_free(azkv_cred_source *src)
{
	workload_source *s = (workload_source *)src;

	pthread_mutex_destroy(&s->lock);
	free(s->token_file);
	azkv_secret_str_free(s->assertion);
	azkv_entra_source_free(&s->entra);
}

static const azkv_cred_source workload_ops = {
        .name = "workload_identity",
        .get_token = workload_get_token,
        .free = workload_free,
};

azkv_rc azkv_src_workload_new(azkv_http *http, const char *authority, const char *tenant,
                              const char *client_id, const char *token_file, azkv_cred_source **out,
                              azkv_err *err)
{
	workload_source *s = azkv_entra_source_new(sizeof(*s), &workload_ops, http, authority,
	                                           tenant, client_id, err);

	*out = NULL;
	/* workload_free destroys the lock: only a source with one goes to it. */
	if (!s || pthread_mutex_init(&s->lock, NULL) != 0) {
		azkv_entra_source_free(s ? &s->entra : NULL);
		return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
	}
	s->token_file = strdup(token_file);
	return azkv_entra_source_done(&s->entra, s->token_file != NULL, out, err);
}
