#include "ossl.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

namespace prepay::payments::ossl {

void freeOpenSslMemory(void *memory) noexcept
{
    OPENSSL_free(memory);
}

ErrorQueueGuard::ErrorQueueGuard()
{
    ERR_clear_error();
}

ErrorQueueGuard::~ErrorQueueGuard()
{
    ERR_clear_error();
}

} // namespace prepay::payments::ossl
