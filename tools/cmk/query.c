/* azkv-cmk --query: a JMESPath subset (query.h). The text is cut into
 * tokens first, then parsed top-down by binding power as the
 * specification's grammar is (a projection takes what follows it up to a
 * token that binds less than 10: a pipe, a comparison, the end), into a
 * tree that is evaluated on the document. Not supported, and said so:
 * slices, functions, the '&&'-less legacy forms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

typedef enum tok_kind {
	T_END,
	T_NAME,   /* foo */
	T_QNAME,  /* "foo bar" */
	T_NUMBER, /* -1 (inside [ ]) */
	T_LITERAL,
	T_RAW, /* 'text' */
	T_DOT,
	T_STAR,
	T_LBRACKET,
	T_RBRACKET,
	T_FLATTEN, /* [] */
	T_FILTER,  /* [? */
	T_LBRACE,
	T_RBRACE,
	T_COMMA,
	T_COLON,
	T_PIPE,
	T_OR,
	T_AND,
	T_NOT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_LPAREN,
	T_RPAREN,
	T_AT,
} tok_kind;

typedef struct token {
	tok_kind kind;
	size_t at;  /* offset in the text */
	char *text; /* T_NAME, T_QNAME, T_RAW: the name or string */
	long number;
	cJSON *literal;
} token;

typedef enum node_kind {
	N_FIELD,
	N_CURRENT,
	N_LITERAL,
	N_SUB,     /* a.b: b on a's value */
	N_INDEX,   /* a[n] */
	N_PROJECT, /* a[*] rhs: rhs on each element of the array a */
	N_VALUES,  /* a.* rhs: rhs on each value of the object a */
	N_FLATTEN, /* a[]: one level of nested arrays merged */
	N_FILTER,  /* a[?cond] rhs */
	N_LIST,    /* [x, y] */
	N_HASH,    /* {k: x, ...} */
	N_PIPE,
	N_OR,
	N_AND,
	N_NOT,
	N_CMP,
} node_kind;

struct cmk_query {
	node_kind kind;
	tok_kind op;    /* N_CMP */
	char *name;     /* N_FIELD; N_HASH's items: the key */
	long index;     /* N_INDEX */
	cJSON *literal; /* N_LITERAL */
	cmk_query *a, *b, *cond;
	cmk_query *next; /* items of N_LIST / N_HASH */
};

typedef struct parser {
	const char *text;
	token *toks;
	size_t n, i;
	char *err;
	size_t err_n;
	int failed;
	int depth; /* of expression() calls */
	int nodes; /* built so far */
} parser;

static const char *const tok_names[] = {
        [T_END] = "the end",
        [T_NAME] = "a name",
        [T_QNAME] = "a quoted name",
        [T_NUMBER] = "a number",
        [T_LITERAL] = "a `literal`",
        [T_RAW] = "a 'string'",
        [T_DOT] = "'.'",
        [T_STAR] = "'*'",
        [T_LBRACKET] = "'['",
        [T_RBRACKET] = "']'",
        [T_FLATTEN] = "'[]'",
        [T_FILTER] = "'[?'",
        [T_LBRACE] = "'{'",
        [T_RBRACE] = "'}'",
        [T_COMMA] = "','",
        [T_COLON] = "':'",
        [T_PIPE] = "'|'",
        [T_OR] = "'||'",
        [T_AND] = "'&&'",
        [T_NOT] = "'!'",
        [T_EQ] = "'=='",
        [T_NE] = "'!='",
        [T_LT] = "'<'",
        [T_LE] = "'<='",
        [T_GT] = "'>'",
        [T_GE] = "'>='",
        [T_LPAREN] = "'('",
        [T_RPAREN] = "')'",
        [T_AT] = "'@'",
};

/* The specification's binding powers; 0 for the tokens that end an
 * expression. */
static int binding_power(tok_kind k)
{
	switch (k) {
	case T_PIPE:
		return 1;
	case T_OR:
		return 2;
	case T_AND:
		return 3;
	case T_EQ:
	case T_NE:
	case T_LT:
	case T_LE:
	case T_GT:
	case T_GE:
		return 5;
	case T_FLATTEN:
		return 9;
	case T_STAR:
		return 20;
	case T_FILTER:
		return 21;
	case T_DOT:
		return 40;
	case T_NOT:
		return 45;
	case T_LBRACE:
		return 50;
	case T_LBRACKET:
		return 55;
	case T_LPAREN:
		return 60;
	default:
		return 0;
	}
}

static void fail_at(parser *p, size_t at, const char *what)
{
	if (p->failed)
		return;
	p->failed = 1;
	snprintf(p->err, p->err_n, "at character %zu of \"%.200s\": %s", at + 1, p->text, what);
}

/* "expected X, found Y" at token t. */
static void expected_at(parser *p, const token *t, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "expected %s, found %s", what, tok_names[t->kind]);
	fail_at(p, t->at, msg);
}

/* ... at the current token. */
static void expected(parser *p, const char *what)
{
	expected_at(p, &p->toks[p->i], what);
}

/* ------------------------------------------------------------ tokens */

static int is_name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* The text between quote characters q starting at s[*i] (after the
 * opening one), with backslash-q taken as q; for "..." the JSON string
 * is decoded. NULL (and the error set) when unterminated or not JSON. */
static char *quoted(parser *p, size_t *i, char q, int json, cJSON **literal)
{
	const char *s = p->text;
	size_t start = *i, j = start, k = 0;
	char *raw;

	while (s[j] && s[j] != q)
		j += s[j] == '\\' && s[j + 1] ? 2 : 1;
	if (!s[j]) {
		fail_at(p, start - 1, "a quote that is not closed");
		return NULL;
	}
	raw = malloc(j - start + 3);
	if (!raw)
		return NULL;
	if (json)
		raw[k++] = '"';
	for (size_t m = start; m < j; m++) {
		/* In '...' and `...`, \' and \` stand for the quote. */
		if (!json && s[m] == '\\' && s[m + 1] == q)
			m++;
		raw[k++] = s[m];
	}
	if (json)
		raw[k++] = '"';
	raw[k] = '\0';
	*i = j + 1;
	if (literal || json) {
		cJSON *v = cJSON_Parse(raw);

		free(raw);
		if (!v || (json && !cJSON_IsString(v))) {
			cJSON_Delete(v);
			fail_at(p, start - 1,
			        json ? "a quoted name that is not a JSON string"
			             : "a `literal` that is not JSON");
			return NULL;
		}
		if (literal) {
			*literal = v;
			return strdup("");
		}
		raw = strdup(v->valuestring);
		cJSON_Delete(v);
	}
	return raw;
}

static int two(const char *s, size_t i, const char *pair)
{
	return s[i] == pair[0] && s[i + 1] == pair[1];
}

static int tokenize(parser *p)
{
	const char *s = p->text;
	size_t i = 0;

	p->toks = calloc(strlen(s) + 1, sizeof(token));
	if (!p->toks)
		return -1;
	for (;;) {
		token *t = &p->toks[p->n];

		while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			i++;
		t->at = i;
		if (!s[i]) {
			t->kind = T_END;
			p->n++;
			return 0;
		}
		if (is_name_start(s[i])) {
			size_t start = i;

			while (is_name_start(s[i]) || is_digit(s[i]))
				i++;
			t->kind = T_NAME;
			t->text = strndup(s + start, i - start);
		} else if (is_digit(s[i]) || (s[i] == '-' && is_digit(s[i + 1]))) {
			char *end;

			t->kind = T_NUMBER;
			t->number = strtol(s + i, &end, 10);
			i = (size_t)(end - s);
		} else if (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
			char q = s[i++];

			t->kind = q == '"' ? T_QNAME : q == '\'' ? T_RAW : T_LITERAL;
			t->text = quoted(p, &i, q, q == '"', q == '`' ? &t->literal : NULL);
			if (!t->text)
				return -1;
		} else if (two(s, i, "[]") || two(s, i, "[?") || two(s, i, "||") ||
		           two(s, i, "&&") || two(s, i, "==") || two(s, i, "!=") ||
		           two(s, i, "<=") || two(s, i, ">=")) {
			static const struct {
				const char *text;
				tok_kind kind;
			} pairs[] = {{"[]", T_FLATTEN}, {"[?", T_FILTER}, {"||", T_OR},
			             {"&&", T_AND},     {"==", T_EQ},     {"!=", T_NE},
			             {"<=", T_LE},      {">=", T_GE}};

			for (size_t k = 0; k < sizeof(pairs) / sizeof(*pairs); k++) {
				if (two(s, i, pairs[k].text))
					t->kind = pairs[k].kind;
			}
			i += 2;
		} else {
			static const char singles[] = ".*[]{},:|!<>()@";
			static const tok_kind kinds[] = {T_DOT,    T_STAR,   T_LBRACKET, T_RBRACKET,
			                                 T_LBRACE, T_RBRACE, T_COMMA,    T_COLON,
			                                 T_PIPE,   T_NOT,    T_LT,       T_GT,
			                                 T_LPAREN, T_RPAREN, T_AT};
			const char *at = strchr(singles, s[i]);

			if (!at || s[i] == '=') {
				fail_at(p, i,
				        s[i] == '=' ? "'=' is not an operator: compare with '=='"
				                    : "a character that is not part of a query");
				return -1;
			}
			t->kind = kinds[at - singles];
			i++;
		}
		p->n++;
	}
}

/* ------------------------------------------------------------ parser */

/* Every query a person writes has far fewer parts; the bound keeps the
 * trees that the led loop builds left-deep (a[][][]..., a.a.a...) from
 * recursing eval() and cmk_query_free() off the stack. */
#define QUERY_MAX_NODES 512

static cmk_query *node(parser *p, node_kind kind, cmk_query *a, cmk_query *b)
{
	cmk_query *q = NULL;

	if (++p->nodes > QUERY_MAX_NODES)
		fail_at(p, p->toks[p->i].at, "too many parts (more than 512)");
	else
		q = calloc(1, sizeof(*q));
	if (!q) {
		cmk_query_free(a);
		cmk_query_free(b);
		return NULL;
	}
	q->kind = kind;
	q->a = a;
	q->b = b;
	return q;
}

static tok_kind peek(const parser *p)
{
	return p->toks[p->i].kind;
}

static token *take(parser *p)
{
	token *t = &p->toks[p->i];

	if (t->kind != T_END)
		p->i++;
	return t;
}

static int expect(parser *p, tok_kind kind)
{
	if (peek(p) != kind) {
		expected(p, tok_names[kind]);
		return 0;
	}
	take(p);
	return 1;
}

static cmk_query *expression(parser *p, int rbp);

static cmk_query *field(parser *p, token *t)
{
	cmk_query *q = node(p, N_FIELD, NULL, NULL);

	if (q) {
		q->name = t->text;
		t->text = NULL;
	}
	return q;
}

/* [a, b] or {key: a, other: b.c}, the '[' or '{' taken: kind N_LIST or
 * N_HASH, its items chained from ->a (a hash's as N_SUB nodes named by
 * their key). */
static cmk_query *multiselect(parser *p, node_kind kind)
{
	tok_kind close = kind == N_LIST ? T_RBRACKET : T_RBRACE;
	cmk_query *q = node(p, kind, NULL, NULL), **tail = q ? &q->a : NULL;

	while (q && !p->failed) {
		token *key = NULL;

		if (kind == N_HASH) {
			if (peek(p) != T_NAME && peek(p) != T_QNAME) {
				expected(p, "a key (a name)");
				break;
			}
			key = take(p);
			if (!expect(p, T_COLON))
				break;
		}
		*tail = kind == N_LIST ? expression(p, 0) : node(p, N_SUB, expression(p, 0), NULL);
		if (!*tail || (key && !(*tail)->a))
			break;
		if (key) {
			(*tail)->name = key->text;
			key->text = NULL;
		}
		tail = &(*tail)->next;
		if (peek(p) == close) {
			take(p);
			return q;
		}
		if (!expect(p, T_COMMA))
			break;
	}
	cmk_query_free(q);
	return NULL;
}

/* What follows '.': a name (and what binds to it more than bp), '*', or
 * a multiselect. */
static cmk_query *dot_rhs(parser *p, int bp)
{
	switch (peek(p)) {
	case T_NAME:
	case T_QNAME:
	case T_STAR:
		return expression(p, bp);
	case T_LBRACKET:
		take(p);
		return multiselect(p, N_LIST);
	case T_LBRACE:
		take(p);
		return multiselect(p, N_HASH);
	default:
		expected(p, "a name, '*', '[' or '{' after '.'");
		return NULL;
	}
}

/* What a projection applies to each element: nothing (the element) when
 * the next token ends it, else '.'-, '['- or '[?'-expressions. */
static cmk_query *projection_rhs(parser *p, int bp)
{
	if (binding_power(peek(p)) < 10)
		return node(p, N_CURRENT, NULL, NULL);
	if (peek(p) == T_LBRACKET || peek(p) == T_FILTER)
		return expression(p, bp);
	if (peek(p) == T_DOT) {
		take(p);
		return dot_rhs(p, bp);
	}
	expected(p, "'.', '[', '|' or the end after a projection");
	return NULL;
}

/* [n], [*] or [a, b] after the '[' was taken; left is what it applies to
 * (NULL: the current value, where [a, b] is a multiselect). */
static cmk_query *bracket(parser *p, cmk_query *left)
{
	if (peek(p) == T_NUMBER) {
		long n = take(p)->number;
		cmk_query *q;

		if (peek(p) == T_COLON) {
			expected(p, "']' (slices [a:b] are not supported)");
			cmk_query_free(left);
			return NULL;
		}
		if (!expect(p, T_RBRACKET)) {
			cmk_query_free(left);
			return NULL;
		}
		q = node(p, N_INDEX, left ? left : node(p, N_CURRENT, NULL, NULL), NULL);
		if (q)
			q->index = n;
		return q;
	}
	if (peek(p) == T_STAR && p->toks[p->i + 1].kind == T_RBRACKET) {
		take(p);
		take(p);
		return node(p, N_PROJECT, left ? left : node(p, N_CURRENT, NULL, NULL),
		            projection_rhs(p, 20));
	}
	if (left) {
		expected(p, "a number or '*' after '[' (slices are not supported)");
		cmk_query_free(left);
		return NULL;
	}
	return multiselect(p, N_LIST);
}

static cmk_query *filter(parser *p, cmk_query *left)
{
	cmk_query *cond = expression(p, 0), *q;

	if (!cond || !expect(p, T_RBRACKET)) {
		cmk_query_free(cond);
		cmk_query_free(left);
		return NULL;
	}
	q = node(p, N_FILTER, left, projection_rhs(p, 21));
	if (q)
		q->cond = cond;
	else
		cmk_query_free(cond);
	return q;
}

/* A projection's parts must all be there: a failed right side fails it. */
static cmk_query *whole(cmk_query *q)
{
	if (q && (!q->a || (q->kind != N_INDEX && q->kind != N_NOT && q->kind != N_FLATTEN &&
	                    q->kind != N_LIST && q->kind != N_HASH && !q->b))) {
		cmk_query_free(q);
		return NULL;
	}
	return q;
}

/* left.* rhs, the '*' taken; a bare '*' is @.* */
static cmk_query *values(parser *p, cmk_query *left)
{
	return whole(node(p, N_VALUES, left, projection_rhs(p, 20)));
}

/* left[] rhs, the '[]' taken; a bare '[]' is @[] */
static cmk_query *flatten(parser *p, cmk_query *left)
{
	return whole(node(p, N_PROJECT, node(p, N_FLATTEN, left, NULL), projection_rhs(p, 9)));
}

static cmk_query *nud(parser *p, token *t)
{
	cmk_query *q;

	switch (t->kind) {
	case T_NAME:
		if (peek(p) == T_LPAREN) {
			fail_at(p, t->at, "functions are not supported");
			return NULL;
		}
		return field(p, t);
	case T_QNAME:
		return field(p, t);
	case T_AT:
		return node(p, N_CURRENT, NULL, NULL);
	case T_LITERAL:
	case T_RAW:
		q = node(p, N_LITERAL, NULL, NULL);
		if (q) {
			q->literal =
			        t->kind == T_LITERAL ? t->literal : cJSON_CreateString(t->text);
			if (t->kind == T_LITERAL)
				t->literal = NULL;
		}
		return q;
	case T_STAR:
		return values(p, node(p, N_CURRENT, NULL, NULL));
	case T_FLATTEN:
		return flatten(p, node(p, N_CURRENT, NULL, NULL));
	case T_FILTER:
		return whole(filter(p, node(p, N_CURRENT, NULL, NULL)));
	case T_LBRACKET:
		return whole(bracket(p, NULL));
	case T_LBRACE:
		return multiselect(p, N_HASH);
	case T_NOT:
		return whole(node(p, N_NOT, expression(p, 45), NULL));
	case T_LPAREN:
		q = expression(p, 0);
		if (q && !expect(p, T_RPAREN)) {
			cmk_query_free(q);
			return NULL;
		}
		return q;
	default:
		expected_at(p, t, "a name, '@', '[', '{', '*', a literal or '('");
		return NULL;
	}
}

static cmk_query *led(parser *p, token *t, cmk_query *left)
{
	cmk_query *q;

	switch (t->kind) {
	case T_DOT:
		if (peek(p) == T_STAR) {
			take(p);
			return values(p, left);
		}
		return whole(node(p, N_SUB, left, dot_rhs(p, 40)));
	case T_LBRACKET:
		return whole(bracket(p, left));
	case T_FLATTEN:
		return flatten(p, left);
	case T_FILTER:
		return whole(filter(p, left));
	case T_PIPE:
	case T_OR:
	case T_AND:
		/* Binary and left-associative: the right side binds tighter. */
		return whole(node(p,
		                  t->kind == T_PIPE ? N_PIPE
		                  : t->kind == T_OR ? N_OR
		                                    : N_AND,
		                  left, expression(p, binding_power(t->kind))));
	default:
		if (binding_power(t->kind) != binding_power(T_EQ))
			break;
		q = whole(node(p, N_CMP, left, expression(p, binding_power(t->kind))));
		if (q)
			q->op = t->kind;
		return q;
	}
	expected_at(p, t, "an operator");
	cmk_query_free(left);
	return NULL;
}

/* Deep enough for any query a person writes; bounds the recursion. */
#define QUERY_MAX_DEPTH 64

static cmk_query *expression(parser *p, int rbp)
{
	cmk_query *left;

	if (p->failed)
		return NULL;
	if (++p->depth > QUERY_MAX_DEPTH) {
		fail_at(p, p->toks[p->i].at, "nested too deep");
		return NULL;
	}
	left = nud(p, take(p));
	while (left && !p->failed && rbp < binding_power(peek(p)))
		left = led(p, take(p), left);
	p->depth--;
	if (p->failed) {
		cmk_query_free(left);
		return NULL;
	}
	if (!left)
		fail_at(p, p->toks[p->i].at, "out of memory");
	return left;
}

/* Far above any query a person writes; bounds the parser's work. */
#define QUERY_MAX_TEXT 4096

cmk_query *cmk_query_compile(const char *text, char *err, size_t n)
{
	parser p = {.text = text, .err = err, .err_n = n};
	cmk_query *q = NULL;

	if (n)
		err[0] = '\0';
	if (strlen(text) > QUERY_MAX_TEXT) {
		snprintf(err, n, "longer than %d characters", QUERY_MAX_TEXT);
		return NULL;
	}
	if (tokenize(&p) == 0) {
		q = expression(&p, 0);
		if (q && peek(&p) != T_END) {
			expected(&p, "an operator or the end");
			cmk_query_free(q);
			q = NULL;
		}
	} else if (!p.failed) {
		fail_at(&p, 0, "out of memory");
	}
	for (size_t i = 0; p.toks && i < p.n; i++) {
		free(p.toks[i].text);
		cJSON_Delete(p.toks[i].literal);
	}
	free(p.toks);
	return q;
}

void cmk_query_free(cmk_query *q)
{
	while (q) {
		cmk_query *next = q->next;

		free(q->name);
		cJSON_Delete(q->literal);
		cmk_query_free(q->a);
		cmk_query_free(q->b);
		cmk_query_free(q->cond);
		free(q);
		q = next;
	}
}

/* ------------------------------------------------------------ evaluation */

static int truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return 0;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return v->child != NULL;
	return 1;
}

/* The values evaluation may create, all told: a few stages of [@, @]
 * double the document each, so without a bound ~30 of them ask for 2^30
 * copies. Far above what a query on azkv-cmk's documents needs. */
#define QUERY_MAX_ITEMS 1000000

typedef struct budget {
	long left; /* items that may still be created */
} budget;

static long items(const cJSON *v)
{
	long n = 1;

	for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
		n += items(c);
	return n;
}

/* Takes n items from the budget: 0 when they are not there (and from
 * then on none is). */
static int spend(budget *e, long n)
{
	if (e->left < n) {
		e->left = -1;
		return 0;
	}
	e->left -= n;
	return 1;
}

/* v, created, if the budget has room for it; else NULL. */
static cJSON *made(budget *e, cJSON *v)
{
	if (!spend(e, 1)) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/* A deep copy of v (null kept) if the budget has room for it. */
static cJSON *dup(budget *e, const cJSON *v)
{
	return spend(e, items(v)) ? cJSON_Duplicate(v, 1) : NULL;
}

/* ... with null as NULL. */
static cJSON *copy(budget *e, const cJSON *v)
{
	return v && !cJSON_IsNull(v) ? dup(e, v) : NULL;
}

static cJSON *eval(budget *e, const cmk_query *q, const cJSON *cur);

/* rhs on each element (array) or value (object) of base; the results
 * that are not null, as an array. */
static cJSON *project(budget *e, const cmk_query *rhs, const cmk_query *cond, const cJSON *base)
{
	cJSON *out = made(e, cJSON_CreateArray());
	const cJSON *el;

	cJSON_ArrayForEach(el, base)
	{
		cJSON *r, *keep = NULL;

		if (cond) {
			keep = eval(e, cond, el);
			if (!truthy(keep)) {
				cJSON_Delete(keep);
				continue;
			}
			cJSON_Delete(keep);
		}
		r = eval(e, rhs, el);
		if (r)
			cJSON_AddItemToArray(out, r);
	}
	return out;
}

static cJSON *compare(budget *e, tok_kind op, const cJSON *a, const cJSON *b)
{
	cJSON *null_a = NULL, *null_b = NULL, *r = NULL;
	int eq;

	if (op == T_EQ || op == T_NE) {
		if (!a)
			a = null_a = cJSON_CreateNull();
		if (!b)
			b = null_b = cJSON_CreateNull();
		eq = cJSON_Compare(a, b, 1);
		r = made(e, cJSON_CreateBool(op == T_EQ ? eq : !eq));
	} else if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		double x = a->valuedouble, y = b->valuedouble;

		r = made(e, cJSON_CreateBool(op == T_LT   ? x < y
		                             : op == T_LE ? x <= y
		                             : op == T_GT ? x > y
		                                          : x >= y));
	}
	cJSON_Delete(null_a);
	cJSON_Delete(null_b);
	return r;
}

static cJSON *eval(budget *e, const cmk_query *q, const cJSON *cur)
{
	cJSON *a, *b, *r = NULL;

	if (e->left < 0)
		return NULL;
	switch (q->kind) {
	case N_CURRENT:
		return copy(e, cur);
	case N_LITERAL:
		return copy(e, q->literal);
	case N_FIELD:
		return cJSON_IsObject(cur) ? copy(e, cJSON_GetObjectItemCaseSensitive(cur, q->name))
		                           : NULL;
	case N_SUB:
	case N_PIPE:
		a = eval(e, q->a, cur);
		if (a || q->kind == N_PIPE)
			r = eval(e, q->b, a);
		cJSON_Delete(a);
		return r;
	case N_INDEX:
		a = eval(e, q->a, cur);
		if (cJSON_IsArray(a)) {
			long n = q->index < 0 ? cJSON_GetArraySize(a) + q->index : q->index;

			if (n >= 0 && n < cJSON_GetArraySize(a))
				r = copy(e, cJSON_GetArrayItem(a, (int)n));
		}
		cJSON_Delete(a);
		return r;
	case N_PROJECT:
	case N_FILTER:
		a = eval(e, q->a, cur);
		if (cJSON_IsArray(a))
			r = project(e, q->b, q->cond, a);
		cJSON_Delete(a);
		return r;
	case N_VALUES:
		a = eval(e, q->a, cur);
		if (cJSON_IsObject(a))
			r = project(e, q->b, NULL, a);
		cJSON_Delete(a);
		return r;
	case N_FLATTEN:
		a = eval(e, q->a, cur);
		if (cJSON_IsArray(a)) {
			const cJSON *el, *inner;

			r = made(e, cJSON_CreateArray());
			cJSON_ArrayForEach(el, (r ? a : NULL))
			{
				if (!cJSON_IsArray(el)) {
					cJSON_AddItemToArray(r, dup(e, el));
					continue;
				}
				cJSON_ArrayForEach(inner, el)
				{
					cJSON_AddItemToArray(r, dup(e, inner));
				}
			}
		}
		cJSON_Delete(a);
		return r;
	case N_LIST:
	case N_HASH:
		if (!cur || cJSON_IsNull(cur))
			return NULL;
		r = made(e, q->kind == N_LIST ? cJSON_CreateArray() : cJSON_CreateObject());
		for (const cmk_query *item = q->a; item && r; item = item->next) {
			b = q->kind == N_LIST ? eval(e, item, cur) : eval(e, item->a, cur);
			if (!b)
				b = made(e, cJSON_CreateNull());
			if (q->kind == N_LIST)
				cJSON_AddItemToArray(r, b);
			else
				cJSON_AddItemToObject(r, item->name, b);
		}
		return r;
	case N_OR:
	case N_AND:
		a = eval(e, q->a, cur);
		if (truthy(a) == (q->kind == N_OR))
			return a;
		cJSON_Delete(a);
		return eval(e, q->b, cur);
	case N_NOT:
		a = eval(e, q->a, cur);
		r = made(e, cJSON_CreateBool(!truthy(a)));
		cJSON_Delete(a);
		return r;
	case N_CMP:
		a = eval(e, q->a, cur);
		b = eval(e, q->b, cur);
		r = compare(e, q->op, a, b);
		cJSON_Delete(a);
		cJSON_Delete(b);
		return r;
	}
	return NULL;
}

cJSON *cmk_query_eval(const cmk_query *q, const cJSON *doc, int *too_big)
{
	budget e = {QUERY_MAX_ITEMS};
	cJSON *r = eval(&e, q, doc);

	*too_big = e.left < 0;
	if (*too_big) {
		cJSON_Delete(r);
		r = NULL;
	}
	return r;
}
