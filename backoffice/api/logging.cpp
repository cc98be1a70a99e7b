#include "logging.h"

#include <QtCore/QString>

namespace prepay {

Q_LOGGING_CATEGORY(lcApi, "prepay.api")

void installLogging(LogVerbosity verbosity)
{
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} "
                                      "%{if-debug}debug%{endif}%{if-info}info%{endif}"
                                      "%{if-warning}warning%{endif}%{if-critical}error%{endif}"
                                      "%{if-fatal}fatal%{endif} %{category}: %{message}"));
    switch (verbosity) {
    case LogVerbosity::Quiet:
        QLoggingCategory::setFilterRules(QStringLiteral("prepay.*.debug=false\nprepay.*.info=false"));
        break;
    case LogVerbosity::Normal: QLoggingCategory::setFilterRules(QStringLiteral("prepay.*.debug=false")); break;
    case LogVerbosity::Verbose: QLoggingCategory::setFilterRules(QStringLiteral("prepay.*=true")); break;
    }
}

} // namespace prepay
