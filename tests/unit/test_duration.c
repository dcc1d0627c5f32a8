/* ISO 8601 durations of rotation policies (tools/cmk/duration.c): the
 * forms Key Vault uses, in days, and the texts that are not durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "duration.h"

static void durations_in_days(void **state)
{
	(void)state;
	assert_int_equal(azkv_duration_days("P210D"), 210);
	assert_int_equal(azkv_duration_days("P6M"), 180);
	assert_int_equal(azkv_duration_days("P1Y"), 365);
	assert_int_equal(azkv_duration_days("P2W"), 14);
	assert_int_equal(azkv_duration_days("P1Y2M3D"), 365 + 60 + 3);
	assert_int_equal(azkv_duration_days("p30d"), 30);
}

static void not_durations(void **state)
{
	(void)state;
	assert_int_equal(azkv_duration_days(NULL), -1);
	assert_int_equal(azkv_duration_days(""), -1);
	assert_int_equal(azkv_duration_days("P"), -1);
	assert_int_equal(azkv_duration_days("30D"), -1);
	assert_int_equal(azkv_duration_days("six-months"), -1);
	assert_int_equal(azkv_duration_days("PT12H"), -1); /* below Key Vault's unit */
	assert_int_equal(azkv_duration_days("P1D2M"), -1); /* units out of order */
	assert_int_equal(azkv_duration_days("P1M1M"), -1); /* a unit twice */
	assert_int_equal(azkv_duration_days("P-1D"), -1);
	assert_int_equal(azkv_duration_days("P1X"), -1);
	assert_int_equal(azkv_duration_days("P1D "), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(durations_in_days),
	        cmocka_unit_test(not_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
