// The Identify and Pin screens' controller: the shop number typed on the kiosk's own keypad
// (digits and the few letters shop numbers use), looked up in the replica, the shop's display
// name shown to confirm before anything else; then, where the building asks for it, the 4–6
// digit PIN, checked by prepayd (online only). Emits confirmed() / pinAccepted(); the flow moves.
#pragma once

#include "backend.h"

#include <QtCore/QObject>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

class IdentifyController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by TenantFlow")
    Q_PROPERTY(QString entry READ entry NOTIFY changed)
    Q_PROPERTY(QStringList letterKeys READ letterKeys CONSTANT)
    Q_PROPERTY(bool candidateFound READ candidateFound NOTIFY changed)
    Q_PROPERTY(QString candidateShopNo READ candidateShopNo NOTIFY changed)
    Q_PROPERTY(QString candidateName READ candidateName NOTIFY changed)
    Q_PROPERTY(QString error READ error NOTIFY changed)
    Q_PROPERTY(int pinLength READ pinLength NOTIFY changed)
    Q_PROPERTY(int pinMin READ pinMin CONSTANT)
    Q_PROPERTY(int pinMax READ pinMax CONSTANT)
    Q_PROPERTY(bool pinBusy READ pinBusy NOTIFY changed)
    Q_PROPERTY(QString pinError READ pinError NOTIFY changed)
    Q_PROPERTY(QString pinMessage READ pinMessage NOTIFY changed)

public:
    static constexpr int kEntryMax = 16;
    static constexpr int kPinMin = 4;
    static constexpr int kPinMax = 6;

    explicit IdentifyController(QObject *parent = nullptr);
    void setBackend(Backend *backend) { m_backend = backend; }

    QString entry() const { return m_entry; }
    QStringList letterKeys() const;
    bool candidateFound() const { return m_candidateId != 0; }
    QString candidateShopNo() const { return m_candidateShopNo; }
    QString candidateName() const { return m_candidateName; }
    qint64 candidateAccountId() const { return m_candidateId; }
    QString error() const { return m_error; } // "", "empty", "not_found"
    int pinLength() const { return int(m_pin.size()); }
    int pinMin() const { return kPinMin; }
    int pinMax() const { return kPinMax; }
    bool pinBusy() const { return m_pinBusy; }
    QString pinError() const { return m_pinError; } // "", "too_short", "wrong_pin", "locked", "unavailable", "refused"
    QString pinMessage() const { return m_pinMessage; }

    // Keypad: a digit, one of letterKeys() or "-"; anything else is ignored.
    Q_INVOKABLE void press(const QString &key);
    Q_INVOKABLE void backspace();
    Q_INVOKABLE void clearEntry();
    // Looks the typed shop number up; on success the candidate is shown to confirm.
    Q_INVOKABLE void lookUp();
    // "Yes, that is my shop": emits confirmed(). "No": back to typing.
    Q_INVOKABLE void confirm();
    Q_INVOKABLE void reject();

    Q_INVOKABLE void pressPinDigit(const QString &digit);
    Q_INVOKABLE void pinBackspace();
    // Sends the PIN to prepayd (one check at a time); pinAccepted() when it is right.
    Q_INVOKABLE void submitPin();
    void clearPin();

    // Forgets everything typed and found (session wiped).
    void clear();

Q_SIGNALS:
    void changed();
    void confirmed(qint64 accountId);
    void pinAccepted();

private:
    Backend *m_backend = nullptr;
    QString m_entry;
    qint64 m_candidateId = 0;
    QString m_candidateShopNo;
    QString m_candidateName;
    QString m_error;
    QString m_pin;
    bool m_pinBusy = false;
    QString m_pinError;
    QString m_pinMessage;
    quint64 m_generation = 0; // bumped by clear(): a PIN answer for a wiped session is dropped
};

} // namespace prepay::kiosk
