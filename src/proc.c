/* A child process with pipes, a deadline and no shell (see proc.h). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

extern char **environ;

typedef struct sink {
	char *data;
	size_t len, cap;
} sink;

/* Appends n bytes; the old buffer is wiped (stdout may hold a token). */
static int sink_add(sink *s, const char *buf, size_t n, size_t max)
{
	char *p;
	size_t cap;

	if (s->len + n > max)
		return -1;
	if (s->len + n + 1 > s->cap) {
		cap = s->cap ? s->cap * 2 : 4096;
		while (cap < s->len + n + 1)
			cap *= 2;
		p = malloc(cap);
		if (!p)
			return -1;
		if (s->data) {
			memcpy(p, s->data, s->len);
			OPENSSL_cleanse(s->data, s->cap);
			free(s->data);
		}
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data + s->len, buf, n);
	s->len += n;
	s->data[s->len] = '\0';
	return 0;
}

static void sink_free(sink *s)
{
	if (s->data) {
		OPENSSL_cleanse(s->data, s->cap);
		free(s->data);
	}
	memset(s, 0, sizeof(*s));
}

/* The program name looked up on PATH (as execvp would), owned; NULL with
 * errno ENOENT when it is nowhere. Done here rather than by posix_spawnp
 * so that "not installed" is known before anything is started, whatever
 * the spawn implementation reports. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	const char *p, *end;
	struct stat st;
	char *full;
	size_t len;

	if (strchr(name, '/'))
		return strdup(name);
	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		full = malloc(len + strlen(name) + 3);
		if (!full)
			return NULL;
		snprintf(full, len + strlen(name) + 3, "%.*s/%s", (int)len, len ? p : ".", name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return full;
		free(full);
	}
	errno = ENOENT;
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

azkv_rc azkv_proc_run(const char *const *argv, long timeout_ms, size_t max_output,
                      azkv_proc_result *res, azkv_err *err)
{
	int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	struct pollfd pfd[2];
	sink so = {0}, se = {0};
	char buf[4096];
	long deadline = now_ms() + timeout_ms, left;
	pid_t pid = -1;
	char *program = NULL;
	int fa_ok = 0, attr_ok = 0, status = 0, e, open_fds;
	ssize_t n;
	azkv_rc rc = AZKV_OK;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	program = find_program(argv[0]);
	if (!program) {
		res->spawn_errno = errno;
		rc = azkv_err_set(err, AZKV_ERR_UNAVAILABLE, "cannot run %s: %s", argv[0],
		                  strerror(errno));
		goto out;
	}
	if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
		rc = azkv_err_set(err, AZKV_ERR_UNAVAILABLE, "cannot run %s: pipe: %s", argv[0],
		                  strerror(errno));
		goto out;
	}
	fa_ok = posix_spawn_file_actions_init(&fa) == 0;
	attr_ok = posix_spawnattr_init(&attr) == 0;
	sigemptyset(&none);
	sigfillset(&defaults);
	sigdelset(&defaults, SIGKILL);
	sigdelset(&defaults, SIGSTOP);
	if (!fa_ok || !attr_ok ||
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2) != 0 ||
	    /* None of the host process's descriptors (sockets, keys) go along. */
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &defaults) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "cannot run %s: out of memory", argv[0]);
		goto out;
	}
	e = posix_spawn(&pid, program, &fa, &attr, (char *const *)argv, environ);
	if (e != 0) {
		pid = -1;
		res->spawn_errno = e;
		rc = azkv_err_set(err, AZKV_ERR_UNAVAILABLE, "cannot run %s: %s", argv[0],
		                  strerror(e));
		goto out;
	}
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;

	pfd[0].fd = out_pipe[0];
	pfd[1].fd = err_pipe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	open_fds = 2;
	while (open_fds > 0) {
		left = deadline - now_ms();
		if (left <= 0) {
			res->timed_out = 1;
			break;
		}
		if (poll(pfd, 2, (int)(left > 1000000 ? 1000000 : left)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (sink_add(i == 0 ? &so : &se, buf, (size_t)n, max_output) != 0) {
				rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
				                  "%s wrote more than %zu bytes", argv[0],
				                  max_output);
				res->timed_out = 0;
				open_fds = 0;
				break;
			}
		}
	}
	if (res->timed_out || rc != AZKV_OK)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!res->timed_out && rc == AZKV_OK && WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	if (rc == AZKV_OK) {
		res->out = so.data ? so.data : strdup("");
		res->out_len = so.len;
		res->err = se.data ? se.data : strdup("");
		so.data = se.data = NULL;
		if (!res->out || !res->err) {
			azkv_proc_result_free(res);
			rc = azkv_err_set(err, AZKV_ERR_NOMEM, "running %s: out of memory",
			                  argv[0]);
		}
	}
out:
	free(program);
	OPENSSL_cleanse(buf, sizeof(buf));
	sink_free(&so);
	sink_free(&se);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	return rc;
}

void azkv_proc_result_free(azkv_proc_result *res)
{
	if (!res)
		return;
	if (res->out) {
		OPENSSL_cleanse(res->out, res->out_len);
		free(res->out);
	}
	free(res->err);
	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
}
