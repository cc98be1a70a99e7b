// Puts the UI in the tenant's language: it installs the compiled translation
// :/i18n/prepay_<code>.qm (built by lrelease from qml/i18n/*.ts) — zh_CN: every string; en: only
// the plural forms, the sources being English — then asks the engine to re-evaluate its bindings. A QML element so Main.qml and the Quick Tests bind it to TenantFlow.language.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QTranslator>
#include <QtQml/QQmlParserStatus>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

class LanguageSwitcher : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    QML_ELEMENT
    Q_INTERFACES(QQmlParserStatus)
    Q_PROPERTY(QString language READ language WRITE setLanguage NOTIFY languageChanged)
    Q_PROPERTY(bool loaded READ loaded NOTIFY languageChanged) // the language's translation is installed

public:
    explicit LanguageSwitcher(QObject *parent = nullptr);
    ~LanguageSwitcher() override;

    QString language() const { return m_language; }
    void setLanguage(const QString &language);
    bool loaded() const { return m_installed; }

    void classBegin() override { }
    void componentComplete() override;

Q_SIGNALS:
    void languageChanged();

private:
    void apply();

    QString m_language = QStringLiteral("zh_CN");
    QTranslator m_translator;
    bool m_installed = false;
    QString m_loadedCode;
    bool m_complete = false;
};

} // namespace prepay::kiosk
