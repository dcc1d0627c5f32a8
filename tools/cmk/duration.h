/* ISO 8601 durations as Key Vault rotation policies use them ("P6M",
 * "P210D", "P1Y2M", "P2W"), in days: months count 30, years 365, as Key
 * Vault itself approximates when it compares them. */
#ifndef AZKV_CMK_DURATION_H
#define AZKV_CMK_DURATION_H

/* Days, or -1 when text is not such a duration (time parts "T..." are
 * refused: Key Vault's minimum is days). */
long azkv_duration_days(const char *text);

#endif
