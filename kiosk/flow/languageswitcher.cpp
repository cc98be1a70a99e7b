#include "languageswitcher.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtQml/QQmlEngine>

namespace prepay::kiosk {

Q_DECLARE_LOGGING_CATEGORY(lcLanguage)
Q_LOGGING_CATEGORY(lcLanguage, "prepay.kiosk.language")

LanguageSwitcher::LanguageSwitcher(QObject *parent)
    : QObject(parent)
{ }

LanguageSwitcher::~LanguageSwitcher()
{
    if (m_installed)
        QCoreApplication::removeTranslator(&m_translator);
}

void LanguageSwitcher::setLanguage(const QString &language)
{
    if (language == m_language)
        return;
    m_language = language;
    if (m_complete)
        apply();
    Q_EMIT languageChanged();
}

void LanguageSwitcher::componentComplete()
{
    m_complete = true;
    apply();
    Q_EMIT languageChanged();
}

void LanguageSwitcher::apply()
{
    const QString code = m_language == QLatin1String("en") ? QStringLiteral("en") : QStringLiteral("zh_CN");
    if (code != m_loadedCode) {
        if (m_installed)
            QCoreApplication::removeTranslator(&m_translator);
        m_installed = false;
        const QString file = QStringLiteral(":/i18n/prepay_%1.qm").arg(code);
        if (m_translator.load(file))
            m_installed = QCoreApplication::installTranslator(&m_translator);
        else
            qCWarning(lcLanguage) << "the translation" << file << "is missing";
        m_loadedCode = code;
    }
    if (QQmlEngine *engine = qmlEngine(this))
        engine->retranslate();
}

} // namespace prepay::kiosk
