/* ISO 8601 durations in days (see duration.h). */
#include "duration.h"

#include <ctype.h>
#include <stdlib.h>

long azkv_duration_days(const char *text)
{
	static const char units[] = "YMWD";
	static const long days[] = {365, 30, 7, 1};
	const char *p = text;
	long total = 0;
	int last = -1, any = 0;

	if (!p || (*p != 'P' && *p != 'p'))
		return -1;
	p++;
	while (*p) {
		char *end;
		long n;
		int u;

		if (!isdigit((unsigned char)*p))
			return -1;
		n = strtol(p, &end, 10);
		if (n < 0 || n > 100000)
			return -1;
		for (u = 0; u < 4 && toupper((unsigned char)*end) != units[u]; u++)
			;
		/* Units in order, each once. */
		if (u == 4 || u <= last)
			return -1;
		last = u;
		total += n * days[u];
		any = 1;
		p = end + 1;
	}
	return any ? total : -1;
}
