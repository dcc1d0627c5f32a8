/* The module-wide state (module.h). A file of its own, below everything
 * that reads it: module.c, which builds and tears it down, calls into the
 * sessions, tokens and fork handlers, and those read this state; were it
 * defined in module.c, each of them would call back up into it. */
#include "module.h"

#include <string.h>
#include <unistd.h>

#include "token.h"

azkv_module azkv_g;
pthread_mutex_t azkv_init_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Here, below every file that looks a token up (login.c's visibility rule
 * among them), not in token.c, which builds objects and so sits above the
 * mechanisms' key lookup. */
azkv_token *azkv_token_get(CK_SLOT_ID slot)
{
	if (slot >= azkv_g.n_tokens)
		return NULL;
	return &azkv_g.tokens[slot];
}

azkv_token *azkv_slot_token(CK_SLOT_ID slot)
{
	azkv_token *tok = azkv_token_get(slot);
	if (tok != NULL)
		azkv_log_call_set(NULL, slot);
	else if (azkv_g.n_tokens == 0)
		azkv_error("slot %lu does not exist: the module has no slots (no vault configured)",
		           (unsigned long)slot);
	else
		azkv_error("slot %lu does not exist: the slots are 0 to %lu (C_GetSlotList lists "
		           "them)",
		           (unsigned long)slot, (unsigned long)azkv_g.n_tokens - 1);
	return tok;
}

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
