/* azkv-cmk --output forms (output_form.h). What az does is the model
 * (knack/output.py): table and tsv take a list's elements as rows (a
 * single object is one row), table's columns are the keys of the values
 * that are neither objects, arrays nor null (not id, type, etag), each
 * capitalised; tsv writes every value of a row, an array as its length
 * and an object as an empty field, so that the columns keep their places.
 * Where az prints Python's texts, so does this: True, False and None in a
 * row's fields (a bare boolean is true or false). Unlike az, the keys keep
 * the document's order (az sorts them unless --query is given), and
 * every text from Azure is written with its control characters escaped
 * (azkv_text_escape), so one row stays one line and a terminal obeys
 * nothing in it. YAML is libyaml's emitter (quoting, escapes), told which
 * strings must be quoted to stay strings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "output_form.h"
#include "log.h"
#include "names.h"

static const char *const output_names[] = {
        [CMK_OUTPUT_TEXT] = "text",   [CMK_OUTPUT_JSON] = "json", [CMK_OUTPUT_JSONC] = "jsonc",
        [CMK_OUTPUT_TABLE] = "table", [CMK_OUTPUT_TSV] = "tsv",   [CMK_OUTPUT_YAML] = "yaml",
        [CMK_OUTPUT_NONE] = "none",
};
#define N_OUTPUT_NAMES (sizeof(output_names) / sizeof(*output_names))

int cmk_output_parse(const char *name, cmk_output *out)
{
	int i = azkv_name_index(output_names, N_OUTPUT_NAMES, name);

	if (i < 0)
		return -1;
	*out = (cmk_output)i;
	return 0;
}

const char *cmk_output_names(char *buf, size_t n)
{
	return azkv_names_join(buf, n, output_names, N_OUTPUT_NAMES);
}

/* A number as JSON writes it: an integer without a fraction, else the
 * shortest of %.15g..%.17g that reads back the same. */
static void number_text(double d, char *buf, size_t n)
{
	if (d == floor(d) && fabs(d) < 1e15) {
		snprintf(buf, n, "%.0f", d);
		return;
	}
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(buf, n, "%.*g", precision, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

char *cmk_escaped(const char *text)
{
	size_t n = 4 * strlen(text) + 1;
	char *out = malloc(n);

	return out ? azkv_text_escape(text, out, n) : NULL;
}

/* ---------------------------------------------------------------- json */

enum { COLOUR_KEY, COLOUR_STRING, COLOUR_NUMBER, COLOUR_LITERAL };
static const char *const colours[] = {"\033[94m", "\033[32m", "\033[36m", "\033[35m"};
#define COLOUR_RESET "\033[0m"

/* cJSON's text of the document, every character that is not printable
 * ASCII written as \uNNNN (a pair of surrogates above U+FFFF; U+FFFD for
 * a byte that is not UTF-8): cJSON escapes C0 controls in strings, not
 * DEL, C1 or bidi controls, and passes bytes that are not UTF-8. Those
 * occur only inside strings, so the document means the same and is
 * valid JSON. With colour, keys, strings, numbers and literals each get
 * theirs. */
static void write_json(FILE *f, const cJSON *doc, int colour)
{
	char *text = cJSON_Print(doc);
	int in_string = 0;
	size_t len;
	long cp;

	if (!text)
		return;
	for (const char *p = text; *p; p += len) {
		azkv_text_next(p, &len, &cp);
		if (cp < 0 || cp >= 0x7F) {
			if (cp < 0)
				cp = 0xFFFD;
			if (cp > 0xFFFF)
				fprintf(f, "\\u%04lx\\u%04lx", 0xD800 + ((cp - 0x10000) >> 10),
				        0xDC00 + ((cp - 0x10000) & 0x3FF));
			else
				fprintf(f, "\\u%04lx", cp);
			continue;
		}
		if (colour && !in_string && *p == '"') {
			/* A key is a string followed by ':'. */
			const char *end = p + 1;

			while (*end && *end != '"')
				end += end[0] == '\\' && end[1] ? 2 : 1;
			fputs(colours[end[0] && end[1] == ':' ? COLOUR_KEY : COLOUR_STRING], f);
			in_string = 1;
			fputc('"', f);
			continue;
		}
		if (colour && in_string && *p == '\\' && p[1]) {
			fwrite(p, 1, 2, f);
			len = 2;
			continue;
		}
		if (colour && in_string && *p == '"') {
			fputs("\"" COLOUR_RESET, f);
			in_string = 0;
			continue;
		}
		if (colour && !in_string && strchr("-0123456789tfn", *p)) {
			size_t n = strspn(p, "-+.0123456789eEtruefalsn");

			fprintf(f, "%s%.*s" COLOUR_RESET,
			        colours[*p == '-' || (*p >= '0' && *p <= '9') ? COLOUR_NUMBER
			                                                      : COLOUR_LITERAL],
			        (int)n, p);
			len = n;
			continue;
		}
		fwrite(p, 1, len, f);
	}
	fputc('\n', f);
	free(text);
}

/* ------------------------------------------------------------ table, tsv */

/* A field's text, as az writes it: strings as they are (escaped here),
 * numbers as JSON, booleans and null as Python's str() does. Owned. */
static char *field_text(const cJSON *v)
{
	char num[64];

	if (cJSON_IsString(v))
		return cmk_escaped(v->valuestring);
	if (cJSON_IsNumber(v)) {
		number_text(v->valuedouble, num, sizeof(num));
		return strdup(num);
	}
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "True" : "False");
	if (cJSON_IsArray(v)) {
		snprintf(num, sizeof(num), "%d", cJSON_GetArraySize(v));
		return strdup(num);
	}
	if (cJSON_IsObject(v))
		return strdup("");
	return strdup("None");
}

/* The rows: a list's elements, or the one value. */
#define FOR_EACH_ROW(row, doc)                                                                     \
	for (const cJSON *row = cJSON_IsArray(doc) ? (doc)->child : (doc); row;                    \
	     row = cJSON_IsArray(doc) ? row->next : NULL)

static void write_tsv(FILE *f, const cJSON *doc)
{
	FOR_EACH_ROW(row, doc)
	{
		if (cJSON_IsObject(row) || cJSON_IsArray(row)) {
			const cJSON *v;
			const char *sep = "";

			cJSON_ArrayForEach(v, row)
			{
				char *t = field_text(v);

				fprintf(f, "%s%s", sep, t ? t : "");
				free(t);
				sep = "\t";
			}
		} else if (cJSON_IsBool(row)) {
			fputs(cJSON_IsTrue(row) ? "true" : "false", f);
		} else {
			char *t = field_text(row);

			fputs(t ? t : "", f);
			free(t);
		}
		fputc('\n', f);
	}
}

typedef struct column {
	char *key;    /* in the row objects; NULL: the whole value (Result) */
	char *header; /* capitalised */
	size_t width;
} column;

/* Characters on the screen (UTF-8 sequences count one). */
static size_t display_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int in_table(const cJSON *v)
{
	static const char *const skipped[] = {"id", "type", "etag"};

	for (size_t i = 0; i < sizeof(skipped) / sizeof(*skipped); i++) {
		if (strcmp(v->string, skipped[i]) == 0)
			return 0;
	}
	return !cJSON_IsNull(v) && !cJSON_IsArray(v) && !cJSON_IsObject(v);
}

/* The columns of the rows: for objects, each key in_table() takes, in
 * the order first seen; for an array, Column1..N; else Result. */
static size_t table_columns(const cJSON *doc, column *cols, size_t max)
{
	size_t n = 0;

	FOR_EACH_ROW(row, doc)
	{
		const cJSON *v;
		int i = 0;

		if (!cJSON_IsObject(row) && !cJSON_IsArray(row)) {
			if (n == 0 && max > 0) {
				cols[n].header = strdup("Result");
				cols[n++].key = NULL;
			}
			continue;
		}
		cJSON_ArrayForEach(v, row)
		{
			char name[32], *key;
			size_t k;

			i++;
			if (cJSON_IsObject(row) && !in_table(v))
				continue;
			snprintf(name, sizeof(name), "Column%d", i);
			key = cJSON_IsObject(row) ? v->string : name;
			for (k = 0; k < n && !(cols[k].key && strcmp(cols[k].key, key) == 0); k++)
				;
			if (k < n || n == max)
				continue;
			cols[n].key = strdup(key);
			cols[n].header = strdup(key);
			if (cols[n].header && cJSON_IsObject(row) && key[0] >= 'a' && key[0] <= 'z')
				cols[n].header[0] = (char)(key[0] - 'a' + 'A');
			n++;
		}
	}
	return n;
}

/* The cell of a row in column col; owned, "" when it has none. */
static char *cell(const cJSON *row, const column *col)
{
	const cJSON *v = NULL;

	if (!col->key)
		v = cJSON_IsObject(row) || cJSON_IsArray(row) ? NULL : row;
	else if (cJSON_IsObject(row))
		v = cJSON_GetObjectItemCaseSensitive(row, col->key);
	else if (cJSON_IsArray(row) && strncmp(col->key, "Column", 6) == 0)
		v = cJSON_GetArrayItem(row, atoi(col->key + 6) - 1);
	if (!v || (cJSON_IsObject(row) && !in_table(v)))
		return strdup("");
	return field_text(v);
}

/* One line of the table, with no space after its last cell. */
static void table_line(FILE *f, char *const *cells, const column *cols, size_t n)
{
	size_t last = 0;

	for (size_t k = 0; k < n; k++) {
		if (cells[k] && cells[k][0])
			last = k;
	}
	for (size_t k = 0; k < last; k++) {
		const char *t = cells[k] ? cells[k] : "";

		fprintf(f, "%s%*s  ", t, (int)(cols[k].width - display_width(t)), "");
	}
	fprintf(f, "%s\n", cells[last] ? cells[last] : "");
}

#define TABLE_MAX_COLUMNS 64

/* az's table ("simple" format of tabulate): the headers, a rule of '-'
 * under each, the rows; columns two spaces apart, left-aligned. */
static int write_table(FILE *f, const cJSON *doc)
{
	column cols[TABLE_MAX_COLUMNS] = {{0}};
	size_t n = table_columns(doc, cols, TABLE_MAX_COLUMNS), rows = 0, r;
	char **cells;

	if (cJSON_IsArray(doc) && !doc->child)
		return 0; /* an empty list: no table, as az */
	FOR_EACH_ROW(row, doc)
	{
		rows++;
	}
	cells = calloc((rows + 2) * (n ? n : 1), sizeof(char *));
	if (n == 0 || !cells) {
		free(cells);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		cells[k] = strdup(cols[k].header ? cols[k].header : "");
		cols[k].width = display_width(cells[k] ? cells[k] : "");
		cells[n + k] = malloc(cols[k].width + 1);
		if (cells[n + k]) {
			memset(cells[n + k], '-', cols[k].width);
			cells[n + k][cols[k].width] = '\0';
		}
	}
	r = 2;
	FOR_EACH_ROW(row, doc)
	{
		for (size_t k = 0; k < n; k++) {
			char *t = cell(row, &cols[k]);
			size_t w = display_width(t ? t : "");

			cells[r * n + k] = t;
			if (w > cols[k].width) {
				char *rule = realloc(cells[n + k], w + 1);

				if (rule) {
					memset(rule, '-', w);
					rule[w] = '\0';
					cells[n + k] = rule;
				}
				cols[k].width = w;
			}
		}
		r++;
	}
	for (r = 0; r < rows + 2; r++)
		table_line(f, cells + r * n, cols, n);
	for (size_t i = 0; i < (rows + 2) * n; i++)
		free(cells[i]);
	free(cells);
	for (size_t k = 0; k < n; k++) {
		free(cols[k].key);
		free(cols[k].header);
	}
	return 0;
}

/* ---------------------------------------------------------------- yaml */

/* 1 if s, written plain, would read back as something other than this
 * string under YAML 1.1 (PyYAML's resolver, which az's output is read
 * with) or 1.2: empty, null, a boolean, a number, a date, a merge key
 * (the words in any case: 1.1 has several spellings of each).
 * Generous: anything that starts like a number or is one of the words is
 * quoted; libyaml's emitter then quotes what its syntax needs. */
static int needs_quotes(const char *s)
{
	static const char *const words[] = {"null", "~",   "true", "false", "yes",  "no",
	                                    "on",   "off", "<<",   "=",     ".inf", ".nan"};

	if (!s[0] || strchr("0123456789+-.", s[0]))
		return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++) {
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	}
	return 0;
}

/* text with each byte that is not UTF-8 replaced by U+FFFD (libyaml
 * refuses such text; cJSON passes it). Owned. */
static char *utf8(const char *text)
{
	char *out = malloc(3 * strlen(text) + 1), *o = out;
	size_t len;
	long cp;

	for (const char *p = text; out && *p; p += len) {
		if (azkv_text_next(p, &len, &cp) && cp < 0) {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
		} else {
			memcpy(o, p, len);
			o += len;
		}
	}
	if (out)
		*o = '\0';
	return out;
}

static int yaml_scalar(yaml_emitter_t *e, const char *text, int plain_ok)
{
	char *valid = utf8(text);
	yaml_event_t ev;
	int ok;

	ok = valid && yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)YAML_STR_TAG,
	                                           (yaml_char_t *)valid, (int)strlen(valid),
	                                           plain_ok, 1, YAML_ANY_SCALAR_STYLE);
	free(valid);
	return ok && yaml_emitter_emit(e, &ev);
}

/* A number that YAML 1.1 reads back as one, not as a string: its
 * float needs a '.' in the mantissa (1.0e+20, not 1e+20), and the
 * infinities and NaN are .inf, -.inf and .nan. */
static void yaml_number(double d, char *buf, size_t n)
{
	char *e;

	if (isnan(d) || isinf(d)) {
		snprintf(buf, n, "%s", isnan(d) ? ".nan" : d > 0 ? ".inf" : "-.inf");
		return;
	}
	number_text(d, buf, n);
	e = strchr(buf, 'e');
	if (e && !memchr(buf, '.', (size_t)(e - buf)) && strlen(buf) + 3 <= n) {
		memmove(e + 2, e, strlen(e) + 1);
		memcpy(e, ".0", 2);
	}
}

static int yaml_value(yaml_emitter_t *e, const cJSON *v)
{
	yaml_event_t ev;
	const cJSON *item;
	char num[64];

	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		int ok = cJSON_IsObject(v)
		                 ? yaml_mapping_start_event_initialize(&ev, NULL,
		                                                       (yaml_char_t *)YAML_MAP_TAG,
		                                                       1, YAML_BLOCK_MAPPING_STYLE)
		                 : yaml_sequence_start_event_initialize(
		                           &ev, NULL, (yaml_char_t *)YAML_SEQ_TAG, 1,
		                           YAML_BLOCK_SEQUENCE_STYLE);

		if (!ok || !yaml_emitter_emit(e, &ev))
			return 0;
		cJSON_ArrayForEach(item, v)
		{
			if ((cJSON_IsObject(v) &&
			     !yaml_scalar(e, item->string, !needs_quotes(item->string))) ||
			    !yaml_value(e, item))
				return 0;
		}
		ok = cJSON_IsObject(v) ? yaml_mapping_end_event_initialize(&ev)
		                       : yaml_sequence_end_event_initialize(&ev);
		return ok && yaml_emitter_emit(e, &ev);
	}
	if (cJSON_IsString(v))
		return yaml_scalar(e, v->valuestring, !needs_quotes(v->valuestring));
	if (cJSON_IsNumber(v))
		yaml_number(v->valuedouble, num, sizeof(num));
	else
		snprintf(num, sizeof(num), "%s",
		         cJSON_IsTrue(v)    ? "true"
		         : cJSON_IsFalse(v) ? "false"
		                            : "null");
	return yaml_scalar(e, num, 1);
}

/* Non-ASCII is escaped ("\u00e9", in double quotes), as the JSON forms
 * do: what reaches a terminal is printable ASCII. */
static int write_yaml(FILE *f, const cJSON *doc)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&e))
		return -1;
	yaml_emitter_set_output_file(&e, f);
	yaml_emitter_set_unicode(&e, 0);
	yaml_emitter_set_width(&e, -1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&e, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&e, &ev) && yaml_value(&e, doc) &&
	     yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
	     yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
	     yaml_emitter_flush(&e);
	yaml_emitter_delete(&e);
	return ok ? 0 : -1;
}

int cmk_output_write(FILE *f, cmk_output form, const cJSON *doc, int colour)
{
	if (!doc || form == CMK_OUTPUT_NONE || form == CMK_OUTPUT_TEXT)
		return 0;
	switch (form) {
	case CMK_OUTPUT_TABLE:
		return write_table(f, doc);
	case CMK_OUTPUT_TSV:
		write_tsv(f, doc);
		return 0;
	case CMK_OUTPUT_YAML:
		return write_yaml(f, doc);
	default:
		write_json(f, doc, colour && form == CMK_OUTPUT_JSONC);
		return 0;
	}
}
