/* The module-wide state (module.h). A file of its own, below everything
 * that reads it: module.c, which builds and tears it down, calls into the
 * sessions, tokens and fork handlers, and those read this state; were it
 * defined in module.c, each of them would call back up into it. */
#include "module.h"

#include <string.h>
#include <unistd.h>

azkv_module azkv_g;
pthread_mutex_t azkv_init_mutex = PTHREAD_MUTEX_INITIALIZER;

int azkv_module_ready(void)
{
	return azkv_g.initialized && azkv_g.pid == getpid();
}

void azkv_pad_field(unsigned char *field, size_t size, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	memset(field, ' ', size);
	memcpy(field, s, len < size ? len : size);
}
