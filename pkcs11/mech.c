#include "mech.h"

#include <stddef.h>

#include "op_aes_gcm.h"

static const struct {
	CK_MECHANISM_TYPE type;
	CK_MECHANISM_INFO info;
} mechanisms[] = {
        /* Vault RSA keys: unwrap in the vault, wrap with the public key. Sizes
         * in bits, the sizes Key Vault creates. */
        {CKM_RSA_PKCS_OAEP, {2048, 4096, CKF_HW | CKF_WRAP | CKF_UNWRAP}},
        {CKM_RSA_PKCS, {2048, 4096, CKF_HW | CKF_WRAP | CKF_UNWRAP}},
        /* Session keys, in software. Sizes in bytes. */
        {CKM_AES_KEY_GEN, {16, 32, CKF_GENERATE}},
        {CKM_GENERIC_SECRET_KEY_GEN, {1, 512, CKF_GENERATE}},
        {CKM_AES_GCM, {16, 32, CKF_ENCRYPT | CKF_DECRYPT}},
};

#define N_MECHANISMS (sizeof(mechanisms) / sizeof(mechanisms[0]))

CK_RV azkv_mech_list(CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	if (list == NULL) {
		*count = N_MECHANISMS;
		return CKR_OK;
	}
	if (*count < N_MECHANISMS) {
		*count = N_MECHANISMS;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (size_t i = 0; i < N_MECHANISMS; i++)
		list[i] = mechanisms[i].type;
	*count = N_MECHANISMS;
	return CKR_OK;
}

CK_RV azkv_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < N_MECHANISMS; i++)
		if (mechanisms[i].type == type) {
			*info = mechanisms[i].info;
			return CKR_OK;
		}
	return CKR_MECHANISM_INVALID;
}

const azkv_cipher_ops *azkv_cipher_find(CK_MECHANISM_TYPE m)
{
	static const azkv_cipher_ops *const families[] = {&azkv_aes_gcm_ops};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i]->mech == m)
			return families[i];
	return NULL;
}

void azkv_cipher_op_end(azkv_cipher_op *op)
{
	if (op->ops != NULL)
		op->ops->free(op->ctx);
	op->ops = NULL;
	op->ctx = NULL;
}
