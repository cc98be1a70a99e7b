// The tenant flow of prepay-kiosk (issue 8): a plain C++ state machine over the screens, and the
// owner of one controller per screen and of the idle supervisor. QML maps `state` to a screen
// and forwards taps to the intents below; nothing is decided in QML.
//
//   Attract ─begin→ Identify ─confirm→ [Pin, if profile().pinRequired] → Account
//   Account ↔ Usage | History | TopUp (its own steps: amount → channel → QR → success | failure)
//   back() goes one step back; endSession() and the idle timeout go to Attract and wipe every
//   trace of the session (controllers and models cleared, a QR cancelled, language back to
//   Chinese).
//   OutOfService while the kiosk has no replica at all (lastSyncMs() == 0) and the link is not
//   online; it recovers to Attract by itself on linkStateChanged / directoryChanged.
//
// The flow works against the Backend interface only (backend.h): the real link or the fixture.
// It is a QML type so the Quick Tests can compose one over a fixture; the app composes it in C++
// and hands it to Main.qml. Time is injected with setClock() (tests use a manual clock).
#pragma once

#include "accountcontroller.h"
#include "backend.h"
#include "historycontroller.h"
#include "identifycontroller.h"
#include "idle/idlesupervisor.h"
#include "receiptcontroller.h"
#include "topupcontroller.h"
#include "usagecontroller.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

class TenantFlow : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(prepay::kiosk::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(prepay::kiosk::ReceiptOutput *receiptOutput READ receiptOutput WRITE setReceiptOutput NOTIFY backendChanged)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString language READ language NOTIFY languageChanged)
    Q_PROPERTY(QString linkState READ linkStateCode NOTIFY linkChanged) // "online", "connecting", "offline"
    Q_PROPERTY(bool online READ online NOTIFY linkChanged)
    Q_PROPERTY(bool topUpAvailable READ topUpAvailable NOTIFY linkChanged)
    Q_PROPERTY(QString buildingName READ buildingName NOTIFY profileChanged)
    Q_PROPERTY(QString kioskName READ kioskName NOTIFY profileChanged)
    Q_PROPERTY(QString officePhone READ officePhone NOTIFY profileChanged)
    Q_PROPERTY(prepay::kiosk::IdentifyController *identify READ identify CONSTANT)
    Q_PROPERTY(prepay::kiosk::AccountController *account READ account CONSTANT)
    Q_PROPERTY(prepay::kiosk::UsageController *usage READ usage CONSTANT)
    Q_PROPERTY(prepay::kiosk::HistoryController *history READ history CONSTANT)
    Q_PROPERTY(prepay::kiosk::TopUpController *topUp READ topUp CONSTANT)
    Q_PROPERTY(prepay::kiosk::ReceiptController *receipts READ receipts CONSTANT)
    Q_PROPERTY(prepay::kiosk::IdleSupervisor *idle READ idle CONSTANT)

public:
    enum State { Attract, Identify, Pin, Account, Usage, History, TopUp, OutOfService };
    Q_ENUM(State)

    static inline const QString kDefaultLanguage = QStringLiteral("zh_CN");

    explicit TenantFlow(QObject *parent = nullptr);
    ~TenantFlow() override;

    Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    // The clock every controller and the idle supervisor read (not owned). Default: the system's.
    void setClock(const Clock *clock);
    // Where receipts are printed (not owned); none: the kiosk offers no receipt.
    ReceiptOutput *receiptOutput() const { return m_receipts.output(); }
    void setReceiptOutput(ReceiptOutput *output)
    {
        m_receipts.setOutput(output);
        Q_EMIT backendChanged();
    }

    State state() const { return m_state; }
    QString language() const { return m_language; }
    QString linkStateCode() const;
    bool online() const;
    bool topUpAvailable() const { return m_topUp.available(); }
    QString buildingName() const;
    QString kioskName() const;
    QString officePhone() const;

    IdentifyController *identify() { return &m_identify; }
    AccountController *account() { return &m_account; }
    UsageController *usage() { return &m_usage; }
    HistoryController *history() { return &m_history; }
    TopUpController *topUp() { return &m_topUp; }
    ReceiptController *receipts() { return &m_receipts; }
    IdleSupervisor *idle() { return &m_idle; }

    Q_INVOKABLE void begin();        // Attract → Identify
    Q_INVOKABLE void back();         // one step back (see the file comment)
    Q_INVOKABLE void endSession();   // wipe, Attract
    Q_INVOKABLE void showAccount();
    Q_INVOKABLE void showUsage();
    Q_INVOKABLE void showHistory();
    Q_INVOKABLE void startTopUp();   // only while topUpAvailable
    Q_INVOKABLE void setLanguage(const QString &language); // "zh_CN" or "en"
    Q_INVOKABLE void touched();      // any tap (the app also feeds the idle supervisor directly)

Q_SIGNALS:
    void backendChanged();
    void stateChanged();
    void languageChanged();
    void linkChanged();
    void profileChanged();

private:
    void setState(State state);
    void wipe();
    void openAccount(qint64 accountId);
    void onLinkOrDirectory();
    void onDirectoryChanged(const QList<qint64> &accountIds);
    void onTopUpStep();
    bool outOfService() const;

    QPointer<Backend> m_backend;
    SystemClock m_systemClock;
    const Clock *m_clock = &m_systemClock;
    State m_state = Attract;
    QString m_language = kDefaultLanguage;
    IdentifyController m_identify;
    AccountController m_account;
    UsageController m_usage;
    HistoryController m_history;
    TopUpController m_topUp;
    ReceiptController m_receipts;
    QString m_autoPrinted; // the paid top-up whose receipt was printed by itself
    IdleSupervisor m_idle;
};

} // namespace prepay::kiosk
