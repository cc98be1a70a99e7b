#include "pkilog.h"

namespace prepay::pki {
Q_LOGGING_CATEGORY(lcPki, "prepay.pki")
}
