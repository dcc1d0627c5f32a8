/* A setting chosen by name from a table of names (names.h). */
#include "names.h"

#include <stdio.h>
#include <strings.h>

int azkv_name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcasecmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

char *azkv_names_join(char *out, size_t size, const char *const *names, size_t n)
{
	size_t pos = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && pos < size; i++)
		pos += (size_t)snprintf(out + pos, size - pos, "%s%s", i ? ", " : "", names[i]);
	return out;
}
