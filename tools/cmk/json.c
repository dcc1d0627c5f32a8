/* azkv-cmk: reading Azure's JSON answers by dotted path
 * ("properties.encryption.keySource"). */
#include <stdio.h>
#include <string.h>

#include "cmk.h"

const cJSON *cmk_item(const cJSON *obj, const char *dotted_path)
{
	char buf[256], *save = NULL;
	const cJSON *item = obj;

	snprintf(buf, sizeof(buf), "%s", dotted_path);
	for (char *p = strtok_r(buf, ".", &save); p && item; p = strtok_r(NULL, ".", &save))
		item = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, p) : NULL;
	return item;
}

const char *cmk_str(const cJSON *obj, const char *dotted_path)
{
	const cJSON *item = cmk_item(obj, dotted_path);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

int cmk_bool(const cJSON *obj, const char *dotted_path, int dflt)
{
	const cJSON *item = cmk_item(obj, dotted_path);

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : dflt;
}
