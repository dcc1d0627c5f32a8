/* azkv-cmk --query: a subset of JMESPath (https://jmespath.org/specification.html)
 * over cJSON, applied to the output document before its form (as az
 * does). The grammar it takes is in azkv-cmk(1), QUERIES. */
#ifndef AZKV_CMK_QUERY_H
#define AZKV_CMK_QUERY_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct cmk_query cmk_query;

/* The compiled query; NULL when text is not one, with err (n bytes)
 * saying at which character and what was expected there. */
cmk_query *cmk_query_compile(const char *text, char *err, size_t n);
/* The query's value on doc, owned by the caller; NULL is JSON null (a
 * name that is not there, an index past the end), as in JMESPath.
 * too_big: set when the value would take more than a million JSON
 * values to build (then NULL). */
cJSON *cmk_query_eval(const cmk_query *q, const cJSON *doc, int *too_big);
void cmk_query_free(cmk_query *q);

#endif
