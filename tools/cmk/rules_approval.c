/* azkv-cmk check, rule resource.approval-form: Speech and Content
 * Moderator accounts need Microsoft's approval before a customer-managed
 * key. foundry-cmk-reference.txt, "Limitations": "Azure AI Foundry
 * Customer-Managed Key Request Form is required to use customer-managed
 * keys in combination with Azure Speech and Content Moderator
 * capabilities." The tool cannot see whether the subscription was
 * approved, so it warns; other kinds get no line. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

void cmk_approval_rule(cmk_ctx *c, cmk_rules *r)
{
	const char *kind = cmk_str(c->resource, "kind");

	if (c->kind != CMK_RES_ACCOUNT || !kind ||
	    (strcasecmp(kind, "SpeechServices") != 0 && strcasecmp(kind, "ContentModerator") != 0))
		return;
	cmk_rule(c, r, "resource.approval-form", CMK_WARN,
	         "submit the Azure AI Foundry Customer-Managed Key Request Form "
	         "(https://aka.ms/cogsvc-cmk) and wait for Microsoft's approval before binding",
	         "%s is a %s account: customer-managed keys need Microsoft's approval first "
	         "(azkv-cmk cannot see whether it was given)",
	         cmk_str(c->resource, "name"), kind);
}
