/* Login on a token with a PIN (a vault's "pin" or "pin_file"), and on one
 * without: the token's flags, wrong and right PINs, private objects hidden
 * until login and again after C_Logout, their handles stale from then on,
 * and a private session object refused before login. Written against the
 * specification (PKCS#11 3.0 5.6, 5.7) so that the same program runs on
 * SoftHSMv2 (run.sh compares).
 *   p11_login pin TOKEN_LABEL PIN KEY_LABEL   a token with PIN; KEY_LABEL an
 *                                             RSA key pair that signs
 *   p11_login nopin TOKEN_LABEL KEY_LABEL     a token without a PIN
 * The module is AZKV_MODULE. Each check prints the answer it saw. */
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_load.h"
#include "tap.h"

static CK_FUNCTION_LIST *p11;
/* The module, not SoftHSMv2: it offers the "Vendor AZKV CMK" interface. */
static int is_azkv;

/* The slot whose token is labelled label; (CK_SLOT_ID)-1 when none is. */
static CK_SLOT_ID slot_of(const char *label)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	char want[32];
	memset(want, ' ', sizeof(want));
	memcpy(want, label, strlen(label) < sizeof(want) ? strlen(label) : sizeof(want));
	if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return (CK_SLOT_ID)-1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (p11->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    memcmp(ti.label, want, sizeof(want)) == 0)
			return slots[i];
	}
	return (CK_SLOT_ID)-1;
}

static CK_FLAGS token_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;
	return p11->C_GetTokenInfo(slot, &ti) == CKR_OK ? ti.flags : 0;
}

static CK_STATE state_of(CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO info;
	return p11->C_GetSessionInfo(s, &info) == CKR_OK ? info.state : (CK_STATE)-1;
}

static CK_BBOOL bool_of(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0xff;
	CK_ATTRIBUTE a = {type, &v, sizeof(v)};
	return p11->C_GetAttributeValue(s, h, &a, 1) == CKR_OK ? v : 0xff;
}

/* C_GetAttributeValue of CKA_CLASS: what a handle answers. */
static CK_RV probe(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof(cls)};
	return p11->C_GetAttributeValue(s, h, &a, 1);
}

/* Signs "data" with key: CKR_OK, or what C_SignInit or C_Sign answered. */
static CK_RV sign_with(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	unsigned char sig[1024];
	CK_ULONG len = sizeof(sig);
	CK_RV rv = p11->C_SignInit(s, &m, key);
	if (rv == CKR_OK)
		rv = p11->C_Sign(s, (CK_BYTE *)"data", 4, sig, &len);
	return rv;
}

/* C_CreateObject of a session AES key, private or not, in s. */
static CK_RV aes_key(CK_SESSION_HANDLE s, CK_BBOOL private, CK_OBJECT_HANDLE *h)
{
	static const unsigned char value[16] = "0123456789abcdef";
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
	        {CKA_CLASS, &cls, sizeof(cls)},   {CKA_KEY_TYPE, &kt, sizeof(kt)},
	        {CKA_TOKEN, &no, sizeof(no)},     {CKA_PRIVATE, &private, sizeof(private)},
	        {CKA_ENCRYPT, &yes, sizeof(yes)}, {CKA_VALUE, (void *)value, sizeof(value)},
	};
	return p11->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), h);
}

/* C_GenerateKey of a private session AES key in s. */
static CK_RV aes_generate_private(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *h)
{
	CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ULONG len = 32;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
	        {CKA_VALUE_LEN, &len, sizeof(len)},
	        {CKA_TOKEN, &no, sizeof(no)},
	        {CKA_PRIVATE, &yes, sizeof(yes)},
	};
	return p11->C_GenerateKey(s, &m, t, sizeof(t) / sizeof(t[0]), h);
}

#define PIN(p) (CK_UTF8CHAR *)(p), (CK_ULONG)strlen(p)

/* The module's CMK extension lists a key's versions with their handles:
 * the private key's only when it shows. The latest version's private
 * handle (CK_INVALID_HANDLE when hidden or not listed). */
static CK_OBJECT_HANDLE listed_private(CK_SESSION_HANDLE s, const char *key)
{
	AZKV_CMK_FUNCTION_LIST *cmk = p11_load_cmk();
	AZKV_KEY_VERSION_INFO v[8];
	CK_ULONG n = 8;
	if (cmk == NULL ||
	    cmk->AZKV_ListKeyVersions(s, (const CK_UTF8CHAR *)key, strlen(key), v, &n) != CKR_OK ||
	    n == 0)
		return CK_INVALID_HANDLE;
	return v[0].private_key;
}

static void with_pin(CK_SLOT_ID slot, const char *pin, const char *key)
{
	CK_FLAGS f = token_flags(slot);
	CHECK((f & CKF_LOGIN_REQUIRED) && (f & CKF_USER_PIN_INITIALIZED),
	      "token flags 0x%lx: CKF_LOGIN_REQUIRED and CKF_USER_PIN_INITIALIZED",
	      (unsigned long)f);

	CK_SESSION_HANDLE ro, rw;
	CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro) == CKR_OK &&
	              p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                                 &rw) == CKR_OK,
	      "a read-only and a read/write session");
	CHECK(state_of(ro) == CKS_RO_PUBLIC_SESSION && state_of(rw) == CKS_RW_PUBLIC_SESSION,
	      "both public before login");

	/* Before login: the public key shows, the private key does not. */
	CK_OBJECT_HANDLE pub = p11_find_one(p11, rw, CKO_PUBLIC_KEY, key);
	CK_OBJECT_HANDLE h;
	CHECK(pub != CK_INVALID_HANDLE, "public key '%s' found before login", key);
	CHECK_RV(p11_find(p11, rw, CKO_PRIVATE_KEY, key, &h), CKR_OBJECT_HANDLE_INVALID,
	         "no private key found before login");
	if (is_azkv)
		CHECK(listed_private(rw, key) == CK_INVALID_HANDLE,
		      "AZKV_ListKeyVersions gives no private key handle before login");
	CHECK_RV(aes_key(rw, CK_TRUE, &h), CKR_USER_NOT_LOGGED_IN,
	         "C_CreateObject(CKA_PRIVATE true) before login");
	CHECK_RV(aes_generate_private(rw, &h), CKR_USER_NOT_LOGGED_IN,
	         "C_GenerateKey(CKA_PRIVATE true) before login");
	CK_OBJECT_HANDLE public_key;
	CHECK_RV(aes_key(rw, CK_FALSE, &public_key), CKR_OK,
	         "C_CreateObject(CKA_PRIVATE false) before login");

	/* Wrong PINs, then the SO, then the user. */
	char wrong[300];
	snprintf(wrong, sizeof(wrong), "%sx", pin);
	CHECK_RV(p11->C_Login(rw, CKU_USER, PIN("wrong")), CKR_PIN_INCORRECT, "C_Login(wrong PIN)");
	CHECK_RV(p11->C_Login(rw, CKU_USER, PIN(wrong)), CKR_PIN_INCORRECT,
	         "C_Login(the PIN and one more byte)");
	CHECK_RV(p11->C_Login(rw, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin) - 1),
	         CKR_PIN_INCORRECT, "C_Login(the PIN less its last byte)");
	CHECK_RV(p11->C_Login(rw, CKU_USER, NULL, 0), CKR_ARGUMENTS_BAD, "C_Login(pPin NULL)");
	CHECK(state_of(rw) == CKS_RW_PUBLIC_SESSION, "still public after wrong PINs");
	CHECK_RV(p11->C_Login(rw, CKU_SO, PIN(pin)), CKR_SESSION_READ_ONLY_EXISTS,
	         "C_Login(CKU_SO) with a read-only session open");
	CHECK_RV(p11->C_Login(ro, CKU_USER, PIN(pin)), CKR_OK,
	         "C_Login(right PIN) in the R/O session");
	CHECK(state_of(ro) == CKS_RO_USER_FUNCTIONS && state_of(rw) == CKS_RW_USER_FUNCTIONS,
	      "both sessions logged in");
	CHECK_RV(p11->C_Login(rw, CKU_USER, PIN(pin)), CKR_USER_ALREADY_LOGGED_IN,
	         "C_Login again, from the other session");

	/* Logged in: the private key shows, is private, and signs. */
	CK_OBJECT_HANDLE priv = p11_find_one(p11, rw, CKO_PRIVATE_KEY, key);
	CHECK(priv != CK_INVALID_HANDLE, "private key '%s' found after login", key);
	CHECK(bool_of(rw, priv, CKA_PRIVATE) == CK_TRUE, "its CKA_PRIVATE is true");
	if (is_azkv)
		CHECK(listed_private(rw, key) == priv,
		      "AZKV_ListKeyVersions gives its handle after login");
	CHECK(bool_of(rw, pub, CKA_PRIVATE) == CK_FALSE, "the public key's is false");
	CHECK_RV(sign_with(ro, priv), CKR_OK, "it signs");
	CK_OBJECT_HANDLE private_key;
	CHECK_RV(aes_key(rw, CK_TRUE, &private_key), CKR_OK,
	         "C_CreateObject(CKA_PRIVATE true) after login");

	/* Logged out: hidden again; the handles held are stale, now and after
	 * the next login (3.0 5.6 C_Logout); the private session key is gone,
	 * the public one stays. */
	CHECK_RV(p11->C_Logout(ro), CKR_OK, "C_Logout");
	CHECK(state_of(ro) == CKS_RO_PUBLIC_SESSION && state_of(rw) == CKS_RW_PUBLIC_SESSION,
	      "both public again");
	CHECK_RV(p11_find(p11, rw, CKO_PRIVATE_KEY, key, &h), CKR_OBJECT_HANDLE_INVALID,
	         "no private key found after logout");
	CHECK_RV(probe(rw, priv), CKR_OBJECT_HANDLE_INVALID,
	         "C_GetAttributeValue(the private key's handle) after logout");
	CK_RV rv = sign_with(rw, priv);
	/* SoftHSMv2 says CKR_OBJECT_HANDLE_INVALID: the key's argument is
	 * CKR_KEY_HANDLE_INVALID in the specification. */
	CHECK(rv == CKR_KEY_HANDLE_INVALID || (!is_azkv && rv == CKR_OBJECT_HANDLE_INVALID),
	      "C_SignInit(the private key's handle) after logout: 0x%lx", (unsigned long)rv);
	CHECK_RV(probe(rw, private_key), CKR_OBJECT_HANDLE_INVALID,
	         "the private session key is destroyed");
	CHECK_RV(probe(rw, public_key), CKR_OK, "the public session key stays");
	CHECK_RV(probe(rw, pub), CKR_OK, "the public key's handle stays");

	CHECK_RV(p11->C_Login(rw, CKU_USER, PIN(pin)), CKR_OK, "C_Login again");
	CHECK_RV(probe(rw, priv), CKR_OBJECT_HANDLE_INVALID,
	         "the old private key handle stays invalid after the new login");
	CK_OBJECT_HANDLE again = p11_find_one(p11, rw, CKO_PRIVATE_KEY, key);
	CHECK(again != CK_INVALID_HANDLE && again != priv && sign_with(rw, again) == CKR_OK,
	      "found again under a new handle, and signs");

	/* The SO: another user is logged in (once no read-only session is). */
	CHECK_RV(p11->C_CloseSession(ro), CKR_OK, "C_CloseSession(R/O)");
	CHECK_RV(p11->C_Login(rw, CKU_SO, PIN(pin)), CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
	         "C_Login(CKU_SO) while the user is logged in");

	/* Closing the last session logs out. */
	CHECK_RV(p11->C_CloseSession(rw), CKR_OK, "C_CloseSession(the last)");
	CHECK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro) == CKR_OK &&
	              state_of(ro) == CKS_RO_PUBLIC_SESSION,
	      "a new session is public");
	CHECK_RV(p11_find(p11, ro, CKO_PRIVATE_KEY, key, &h), CKR_OBJECT_HANDLE_INVALID,
	         "and sees no private key");
	p11->C_CloseSession(ro);
}

static void without_pin(CK_SLOT_ID slot, const char *key)
{
	CK_FLAGS f = token_flags(slot);
	CHECK(!(f & CKF_LOGIN_REQUIRED), "token flags 0x%lx: no CKF_LOGIN_REQUIRED",
	      (unsigned long)f);
	CK_SESSION_HANDLE s;
	CHECK_RV(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
	         CKR_OK, "C_OpenSession");
	CK_OBJECT_HANDLE priv = p11_find_one(p11, s, CKO_PRIVATE_KEY, key);
	CHECK(priv != CK_INVALID_HANDLE && bool_of(s, priv, CKA_PRIVATE) == CK_FALSE,
	      "private key '%s' found without login, CKA_PRIVATE false", key);
	CHECK_RV(sign_with(s, priv), CKR_OK, "it signs without login");
	CK_OBJECT_HANDLE h;
	CHECK_RV(aes_key(s, CK_TRUE, &h), CKR_OK, "C_CreateObject(CKA_PRIVATE true) without login");
	/* The SO: refused whatever the PIN, first for a read-only session
	 * (3.0 5.6), then for the user logged in. */
	CK_SESSION_HANDLE ro;
	CHECK_RV(p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK,
	         "C_OpenSession(R/O)");
	CHECK_RV(p11->C_Login(s, CKU_SO, PIN("any PIN")), CKR_SESSION_READ_ONLY_EXISTS,
	         "C_Login(CKU_SO) with a read-only session open");
	CHECK_RV(p11->C_CloseSession(ro), CKR_OK, "C_CloseSession(R/O)");
	CHECK_RV(p11->C_Login(s, CKU_SO, PIN("any PIN")), CKR_PIN_INCORRECT,
	         "C_Login(CKU_SO) without one: there is no SO");
	CHECK_RV(p11->C_Login(s, CKU_USER, PIN("any PIN")), CKR_OK, "C_Login(any PIN)");
	CHECK_RV(p11->C_Login(s, CKU_SO, PIN("any PIN")), CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
	         "C_Login(CKU_SO) while the user is logged in");
	CHECK_RV(p11->C_Logout(s), CKR_OK, "C_Logout");
	CHECK(probe(s, priv) == CKR_OK && probe(s, h) == CKR_OK,
	      "after logout the handles stay: nothing was hidden");
	p11->C_CloseSession(s);
}

int main(int argc, char **argv)
{
	int pin = argc == 5 && strcmp(argv[1], "pin") == 0;
	if (!pin && !(argc == 4 && strcmp(argv[1], "nopin") == 0)) {
		fprintf(stderr, "usage: p11_login pin TOKEN_LABEL PIN KEY_LABEL | "
		                "nopin TOKEN_LABEL KEY_LABEL\n");
		return 2;
	}
	if ((p11 = p11_load("p11_login")) == NULL)
		return 2;
	is_azkv = p11_load_cmk() != NULL;
	CHECK_RV(p11->C_Initialize(NULL), CKR_OK, "C_Initialize");
	CK_SLOT_ID slot = slot_of(argv[2]);
	if (!CHECK(slot != (CK_SLOT_ID)-1, "token '%s' found", argv[2]))
		return 1;
	if (pin)
		with_pin(slot, argv[3], argv[4]);
	else
		without_pin(slot, argv[3]);
	CHECK_RV(p11->C_Finalize(NULL), CKR_OK, "C_Finalize");
	p11_unload();
	return tap_status();
}
