// The Top-up screen's controller, in steps: Amount (presets 50/100/200/500 元 within the
// building's limits, or a custom amount on the digit keypad) → Channel (the ones prepayd takes)
// → Qr (the QR, the amount, a countdown to expiresAtMs, "waiting for payment") → Success (the
// new balance; "power restored" only once the account row's points show the relay closed again)
// or Failure (closed, timed out, refused, unavailable — with what to do next).
//
// Money safety (the rules of issue 8):
//  - one attempt at a time: while a create or cancel is in flight (`busy`) every intent that
//    could start another is ignored, so a double tap never creates two top-ups;
//  - ONE idempotency key per top-up (a QUuid), made at the first create for an amount and
//    channel and sent again, unchanged, when that create is retried after `unavailable`;
//    another amount or channel, or a new top-up after one was created, gets a new key;
//  - leaving the QR (back, home, idle) cancels the top-up with prepayd; a payment made at the
//    last moment is still credited, and the account row shows it;
//  - top-ups are offered only while the link is online (`available`).
#pragma once

#include "backend.h"

#include "api/clock.h"

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtCore/QTimer>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

class TopUpController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by TenantFlow")
    Q_PROPERTY(Step step READ step NOTIFY changed)
    Q_PROPERTY(bool available READ available NOTIFY changed)
    Q_PROPERTY(bool busy READ busy NOTIFY changed)
    Q_PROPERTY(QStringList presets READ presets NOTIFY changed)     // "50", "100", … (元)
    Q_PROPERTY(int presetIndex READ presetIndex NOTIFY changed)     // -1: custom or none
    Q_PROPERTY(QString customEntry READ customEntry NOTIFY changed) // yuan digits typed
    Q_PROPERTY(bool amountValid READ amountValid NOTIFY changed)
    Q_PROPERTY(QString amountText READ amountText NOTIFY changed)   // "¥100.00"
    Q_PROPERTY(QString amountError READ amountError NOTIFY changed) // "", "below_min", "above_max"
    Q_PROPERTY(QString minText READ minText NOTIFY changed)
    Q_PROPERTY(QString maxText READ maxText NOTIFY changed)
    Q_PROPERTY(QStringList channels READ channels NOTIFY changed)
    Q_PROPERTY(QString channel READ channel NOTIFY changed)
    Q_PROPERTY(QString createError READ createError NOTIFY changed) // the last create failed: "unavailable", "refused", …
    Q_PROPERTY(QString createMessage READ createMessage NOTIFY changed)
    Q_PROPERTY(bool qrReady READ qrReady NOTIFY changed)
    Q_PROPERTY(QString qrPayload READ qrPayload NOTIFY changed)
    Q_PROPERTY(QString qrImageUrl READ qrImageUrl NOTIFY changed)   // image://qr/<percent-encoded payload>
    Q_PROPERTY(QString receiptNo READ receiptNo NOTIFY changed)
    Q_PROPERTY(QString countdownText READ countdownText NOTIFY countdownChanged)
    Q_PROPERTY(int secondsLeft READ secondsLeft NOTIFY countdownChanged)
    Q_PROPERTY(QString newBalanceText READ newBalanceText NOTIFY changed)
    Q_PROPERTY(bool late READ late NOTIFY changed)
    Q_PROPERTY(bool powerPending READ powerPending NOTIFY changed)   // paid; the supply not back on yet
    Q_PROPERTY(bool powerRestored READ powerRestored NOTIFY changed) // it was off and the relay closed
    Q_PROPERTY(QString failure READ failure NOTIFY changed) // "timeout", "closed", "refused", "unavailable", "disputed", "expired_unknown"
    Q_PROPERTY(QString failureMessage READ failureMessage NOTIFY changed)

public:
    enum Step { Amount, Channel, Qr, Success, Failure };
    Q_ENUM(Step)

    static constexpr qint64 kPresetsFen[] = {5'000, 10'000, 20'000, 50'000};
    static constexpr int kCustomDigitsMax = 6; // 999,999 元 is beyond any limit already

    explicit TopUpController(QObject *parent = nullptr);
    void setBackend(Backend *backend);
    void setClock(const Clock *clock) { m_clock = clock; }

    // A new top-up for this account (from the Account screen).
    void begin(const sync::DirectoryRow &row);
    // The account's row changed in the replica (the relay may have closed).
    void accountUpdated(const sync::DirectoryRow &row);
    // Leaves the top-up: cancels a QR that is showing, forgets everything.
    void clear();

    Step step() const { return m_step; }
    bool available() const;
    bool busy() const { return m_busy; }
    QStringList presets() const;
    int presetIndex() const { return m_presetIndex; }
    QString customEntry() const { return m_custom; }
    bool amountValid() const { return m_amountFen > 0 && amountError().isEmpty(); }
    qint64 amountFen() const { return m_amountFen; }
    QString amountText() const;
    QString amountError() const;
    QString minText() const;
    QString maxText() const;
    QStringList channels() const;
    QString channel() const { return m_channel; }
    QString createError() const { return m_createError.code; }
    QString createMessage() const { return m_createError.message; }
    bool qrReady() const { return !m_topUp.qrPayload.isEmpty(); }
    QString qrPayload() const { return m_topUp.qrPayload; }
    QString qrImageUrl() const;
    QString receiptNo() const { return m_topUp.receiptNo; }
    QString countdownText() const;
    int secondsLeft() const;
    QString newBalanceText() const;
    bool late() const { return m_topUp.late; }
    bool powerPending() const { return m_powerPending; }
    bool powerRestored() const { return m_powerRestored; }
    QString failure() const { return m_failure; }
    QString failureMessage() const { return m_failureMessage; }
    QString idempotencyKey() const { return m_key; }
    qint64 attemptId() const { return m_topUp.attemptId; }

    Q_INVOKABLE void choosePreset(int index);
    Q_INVOKABLE void pressDigit(const QString &digit);
    Q_INVOKABLE void backspace();
    // Amount → Channel (only with a valid amount).
    Q_INVOKABLE void confirmAmount();
    // Channel → creates the top-up (or retries the failed create with the same key).
    Q_INVOKABLE void chooseChannel(const QString &channel);
    // One step back: Channel → Amount, Qr → cancels the top-up and back to Amount,
    // Failure → Amount (try again). Returns false when there is nothing before (leave the screen).
    Q_INVOKABLE bool back();
    // Re-reads the clock: the countdown; at the deadline the QR is cancelled (Failure "timeout").
    void tick();

Q_SIGNALS:
    void changed();
    void countdownChanged();

private:
    void onTopUpChanged(const TopUp &topUp);
    void apply(const TopUp &topUp);
    void create();
    void cancelShowing();
    void setStep(Step step);
    void fail(const QString &code, const QString &message);
    qint64 nowMs() const;

    Backend *m_backend = nullptr;
    const Clock *m_clock = nullptr;
    QTimer m_timer;
    Step m_step = Amount;
    QString m_shopNo;
    bool m_powerWasOff = false;
    bool m_powerPending = false;
    bool m_powerRestored = false;
    int m_presetIndex = -1;
    QString m_custom;
    qint64 m_amountFen = 0;
    QString m_channel;
    QString m_key;            // the idempotency key of the top-up being created
    qint64 m_keyAmountFen = 0;
    QString m_keyChannel;
    bool m_busy = false;
    BackendError m_createError;
    TopUp m_topUp;            // the top-up created (attemptId 0: none)
    QString m_failure;
    QString m_failureMessage;
    quint64 m_generation = 0; // bumped by clear(): answers for a top-up left behind are dropped
};

} // namespace prepay::kiosk
