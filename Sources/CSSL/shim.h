#ifndef BALLAST_CSSL_SHIM_H
#define BALLAST_CSSL_SHIM_H
#include <openssl/err.h>
#include <openssl/ssl.h>

/// Adds `mode` bits to a context (SSL_CTX_set_mode is a macro Swift cannot call).
static inline long cssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }

/// The oldest protocol version a context accepts (SSL_CTX_set_min_proto_version is a macro).
static inline int cssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
#endif
