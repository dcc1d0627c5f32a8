/* TAP output for the C test programs (tests/integration, tests/interop):
 * one "ok - WHAT" or "not ok - WHAT" line per check, which the suites'
 * scripts and automake's TAP driver read. main returns tap_status(). */
#ifndef AZKV_TEST_TAP_H
#define AZKV_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

/* The checks that failed so far (one program, one thread of checks). */
static int tap_failures;

/* Prints the line for one check and counts a failure; returns ok. Each
 * line is flushed: a program that forks must not hand its child a
 * buffered copy. */
__attribute__((format(printf, 2, 3))) static inline int tap_check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_failures += !ok;
	return ok;
}

/* The truth of the check being made. CHECK evaluates cond into it before
 * the format's arguments: those often read what cond's call wrote, and a
 * function's arguments are evaluated in no set order (valgrind saw one
 * read before the call had written it). */
static _Thread_local int tap_cond __attribute__((unused));

/* One check, an expression worth cond's truth; cond is evaluated once,
 * first: it often is the call under test. The rest is a printf format and
 * its arguments, naming what is checked. */
#define CHECK(cond, ...) (tap_cond = (cond) ? 1 : 0, tap_check(tap_cond, __VA_ARGS__))

/* A call under test gives the CK_RV want; the line shows both. */
#define CHECK_RV(got, want, what)                                                                  \
	do {                                                                                       \
		unsigned long got_ = (unsigned long)(got), want_ = (unsigned long)(want);          \
		CHECK(got_ == want_, "%s: 0x%lx (want 0x%lx)", what, got_, want_);                 \
	} while (0)

/* A failure found outside a CHECK. */
#define TAP_FAIL(...) tap_check(0, __VA_ARGS__)

/* The exit status: 0 when every check passed. */
static inline int tap_status(void)
{
	return tap_failures ? 1 : 0;
}

#endif
