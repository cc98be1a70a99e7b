// The PKI's logging category, prepay.pki.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::pki {
Q_DECLARE_LOGGING_CATEGORY(lcPki)
}
