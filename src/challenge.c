/* Parses the Bearer challenge of a Key Vault 401 (RFC 7235 auth-params). */
#include "challenge.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads a token (up to '=', ',', or white space) at *p. Returns its
 * length and advances *p. */
static size_t read_token(const char **p)
{
	const char *s = *p;

	while (**p && **p != '=' && **p != ',' && !is_space(**p))
		(*p)++;
	return (size_t)(*p - s);
}

/* Reads a value, quoted (with backslash escapes) or bare, at *p into a
 * new string. Returns NULL on allocation failure or a missing quote;
 * *bad is set for the latter. */
static char *read_value(const char **p, int *bad)
{
	const char *s = *p;
	char *v, *d;

	if (*s != '"') {
		/* A bare value (token68 or URL) may contain '='. */
		while (**p && **p != ',' && !is_space(**p))
			(*p)++;
		return strndup(s, (size_t)(*p - s));
	}
	s++;
	v = malloc(strlen(s) + 1);
	if (!v)
		return NULL;
	d = v;
	while (*s && *s != '"') {
		if (*s == '\\' && s[1])
			s++;
		*d++ = *s++;
	}
	*d = '\0';
	if (*s != '"') {
		*bad = 1;
		free(v);
		return NULL;
	}
	*p = s + 1;
	return v;
}

/* The last non-empty path segment of url, owned, or NULL. */
static char *last_path_segment(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *seg = NULL;
	size_t end, start;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	end = strlen(path);
	while (end > 0 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (end > start)
		seg = strndup(path + start, end - start);
out:
	curl_free(path);
	curl_url_cleanup(u);
	return seg;
}

azkv_rc azkv_challenge_parse(const char *header, azkv_challenge *out, azkv_err *err)
{
	const char *p = header;
	azkv_challenge c = {0};
	azkv_rc rc = AZKV_OK;
	size_t n;
	int bad = 0;

	memset(out, 0, sizeof(*out));
	if (!header) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "401 without a WWW-Authenticate header");
		goto out;
	}
	while (is_space(*p))
		p++;
	n = read_token(&p);
	if (n != 6 || strncasecmp(p - n, "Bearer", 6) != 0 || (*p && !is_space(*p))) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "WWW-Authenticate is not a Bearer challenge");
		goto out;
	}

	for (;;) {
		const char *name;
		size_t name_len;
		char **slot = NULL;
		char *value;

		while (is_space(*p) || *p == ',')
			p++;
		if (!*p)
			break;
		name = p;
		name_len = read_token(&p);
		while (is_space(*p))
			p++;
		if (name_len == 0 || *p != '=')
			break; /* the next challenge (another scheme) begins */
		p++;
		while (is_space(*p))
			p++;
		value = read_value(&p, &bad);
		if (!value) {
			if (bad)
				rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
				                  "WWW-Authenticate has an unterminated quoted "
				                  "value for %.*s",
				                  (int)name_len, name);
			else
				rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((name_len == 13 && strncasecmp(name, "authorization", 13) == 0) ||
		    (name_len == 17 && strncasecmp(name, "authorization_uri", 17) == 0))
			slot = &c.authorization;
		else if (name_len == 8 && strncasecmp(name, "resource", 8) == 0)
			slot = &c.resource;
		else if (name_len == 5 && strncasecmp(name, "scope", 5) == 0)
			slot = &c.scope;
		if (slot && !*slot && *value)
			*slot = value;
		else
			free(value);
	}

	if (!c.scope && !c.resource) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "Bearer challenge has neither resource nor scope");
		goto out;
	}
	if (!c.scope) {
		size_t len = strlen(c.resource);
		int slash = len > 0 && c.resource[len - 1] == '/';

		c.scope = malloc(len + sizeof("/.default"));
		if (!c.scope)
			goto nomem;
		memcpy(c.scope, c.resource, len);
		strcpy(c.scope + len, slash ? ".default" : "/.default");
	}
	if (c.authorization)
		c.tenant_id = last_path_segment(c.authorization);
	*out = c;
	memset(&c, 0, sizeof(c));
	goto out;
nomem:
	rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
out:
	azkv_challenge_free(&c);
	return rc;
}

void azkv_challenge_free(azkv_challenge *c)
{
	if (!c)
		return;
	free(c->authorization);
	free(c->tenant_id);
	free(c->resource);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}
