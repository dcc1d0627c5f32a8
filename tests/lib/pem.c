/* tests/lib/pem.h */
#include "pem.h"

#include <openssl/pem.h>
#include <stdio.h>

EVP_PKEY *test_read_public_pem(const char *prog, const char *file)
{
	FILE *f = fopen(file, "r");
	EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	if (!k)
		fprintf(stderr, "%s: cannot read a public key from %s\n", prog, file);
	return k;
}
