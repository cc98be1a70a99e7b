// The service's logging category: one line per call ("c12.7 session.login anonymous
// 10.0.0.5:51234 -> ok (3 ms)"), per connection and per TLS refusal.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::service {
Q_DECLARE_LOGGING_CATEGORY(lcService)
}
