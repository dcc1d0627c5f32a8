/* azkv-cmk --output: the forms of the output document, as az writes
 * them (its knack/output.py: json, jsonc, table, tsv, yaml, none).
 * Pure: each writes a document to a stream. */
#ifndef AZKV_CMK_OUTPUT_FORM_H
#define AZKV_CMK_OUTPUT_FORM_H

#include <cjson/cJSON.h>
#include <stdio.h>

typedef enum cmk_output {
	CMK_OUTPUT_TEXT = 0, /* no document: the messages for people (default) */
	CMK_OUTPUT_JSON,
	CMK_OUTPUT_JSONC, /* JSON in colour, on a terminal */
	CMK_OUTPUT_TABLE,
	CMK_OUTPUT_TSV,
	CMK_OUTPUT_YAML,
	CMK_OUTPUT_NONE,
} cmk_output;

/* The form named name ("table", ...): 0, or -1 when none is. */
int cmk_output_parse(const char *name, cmk_output *out);
/* The forms' names, ", "-separated, in buf (n bytes); buf. */
const char *cmk_output_names(char *buf, size_t n);
/* text with its control characters escaped (azkv_text_escape); owned,
 * NULL when out of memory. */
char *cmk_escaped(const char *text);

/* Writes doc in form to f; doc NULL (a query's null) writes nothing, as
 * az does. colour: jsonc is coloured (else it is json). Returns 0, or -1
 * when a table has no column (no top-level value that is not an object,
 * an array or null) or the YAML emitter failed. */
int cmk_output_write(FILE *f, cmk_output form, const cJSON *doc, int colour);

#endif
