/* A setting chosen by name from a table of names (log levels, log
 * formats, azkv-cmk's output forms): the one lookup and the one list that
 * error messages name the choices with. */
#ifndef AZKV_NAMES_H
#define AZKV_NAMES_H

#include <stddef.h>

/* The index of name (case-insensitive) among the n names, or -1 (also for
 * a NULL name). */
int azkv_name_index(const char *const *names, size_t n, const char *name);

/* The n names joined as "a, b, c" into out (size >= 1, always
 * NUL-terminated, cut short to fit). Returns out. */
char *azkv_names_join(char *out, size_t size, const char *const *names, size_t n);

#endif
