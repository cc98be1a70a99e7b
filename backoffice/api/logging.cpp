#include "logging.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <cstdio>

namespace prepay {

Q_LOGGING_CATEGORY(lcApi, "prepay.api")

namespace {

void jsonLine(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const char *level = "info";
    switch (type) {
    case QtDebugMsg: level = "debug"; break;
    case QtInfoMsg: level = "info"; break;
    case QtWarningMsg: level = "warning"; break;
    case QtCriticalMsg: level = "error"; break;
    case QtFatalMsg: level = "fatal"; break;
    }
    const QJsonObject line{
        {QStringLiteral("time"),
            QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"))},
        {QStringLiteral("level"), QLatin1String(level)},
        {QStringLiteral("category"), QLatin1String(context.category ? context.category : "default")},
        {QStringLiteral("message"), message}};
    const QByteArray text = QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n';
    std::fwrite(text.constData(), 1, size_t(text.size()), stderr);
    std::fflush(stderr);
}

} // namespace

void installLogging(LogVerbosity verbosity, LogLineFormat format)
{
    if (format == LogLineFormat::Json)
        qInstallMessageHandler(jsonLine);
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
