#ifndef BALLAST_CCRYPTO_SHIM_H
#define BALLAST_CCRYPTO_SHIM_H
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

/// The bytes held by a memory BIO (BIO_get_mem_data is a macro Swift cannot call).
static inline long ccrypto_bio_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
#endif
