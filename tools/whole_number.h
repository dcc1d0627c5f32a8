/* The one reading of a whole-number option for the command-line tools
 * azkv-cmk and azkv-envelope (the sample azkv-key-versions.c needs only
 * its two headers and checks its one number itself): decimal digits only
 * (no sign, space or unit), from min to max. strtol alone takes "12x" as 12
 * and "x" as 0, so that a typo would run the command with another value. */
#ifndef AZKV_TOOLS_WHOLE_NUMBER_H
#define AZKV_TOOLS_WHOLE_NUMBER_H

#include <errno.h>
#include <stdlib.h>

/* 1 and *out set when s is such a number, else 0 and *out untouched. */
static inline int whole_number(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

#endif
