#include "logging.h"

#include <QtCore/QString>

namespace prepay {

Q_LOGGING_CATEGORY(lcApi, "prepay.api")

void installLogging(bool verbose)
{
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} "
                                      "%{if-debug}debug%{endif}%{if-info}info%{endif}"
                                      "%{if-warning}warning%{endif}%{if-critical}error%{endif}"
                                      "%{if-fatal}fatal%{endif} %{category}: %{message}"));
    QLoggingCategory::setFilterRules(verbose ? QStringLiteral("prepay.*.debug=true\nprepay.*=true")
                                             : QStringLiteral("prepay.*.debug=false"));
}

} // namespace prepay
