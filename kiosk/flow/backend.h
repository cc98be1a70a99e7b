// What the tenant flow needs from the world, as one interface (issue 8). The flow and its screen
// controllers (kiosk/flow) talk only to this; two implementations stand behind it:
//   - kiosk/link: the real one — the enrolled kiosk's TLS WebSocket to prepayd, the directory
//     replica (backoffice/sync/replica.h) kept in a file, the outbox of kiosk events;
//   - kiosk/fixture: canned data and a scripted payment, no backoffice at all
//     (`prepay-kiosk --offline-fixture`, screenshots, Quick Tests).
// It never decides money: reads come from the replica (instant, possibly stale), top-ups go to
// prepayd, which alone credits.
//
// Threading: main thread only. Every asynchronous call answers exactly once through its callback,
// on the main thread, never from inside the call itself (so a caller may set state after calling).
#pragma once

#include "sync/directory.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <functional>
#include <optional>

namespace prepay::kiosk {

// The connection to the backoffice as the tenant should understand it.
enum class LinkState {
    Online,     // connected, the replica follows the feed live
    Connecting, // starting up or reconnecting; the replica (if any) may be behind
    Offline,    // the backoffice is unreachable: show cached data marked stale, no top-ups
};

// The building and kiosk settings the screens need (from prepayd when online, cached with the
// replica so they survive a restart while offline).
struct KioskProfile
{
    QString kioskName;        // "A座大堂"
    QString buildingName;     // shown on Attract; the site's name when the kiosk serves every building
    QString officePhone;      // the property office, for "what to do next" messages (may be empty)
    QStringList channels;     // "alipay", "wechat", "unionpay": the ones prepayd takes, in display order
    qint64 topUpMinFen = 100;
    qint64 topUpMaxFen = 500000;
    bool pinRequired = false; // the building asks for the tenant's 4–6 digit PIN
};

// A top-up as prepayd reports it: the result of topup.create/get/cancel and of events.topup
// (docs/api.md). `state` is the API's code (created, qr_issued, scanned, credited,
// partially_refunded, refunded, closing, closed, expired_unknown, disputed).
struct TopUp
{
    qint64 attemptId = 0;
    QString receiptNo;
    QString shopNo;
    QString channel;
    qint64 amountFen = 0;
    QString state;
    bool paid = false;
    bool late = false;
    qint64 createdAtMs = 0;
    qint64 expiresAtMs = 0;
    QString qrPayload;                // empty unless the QR can be paid now
    std::optional<qint64> paidAtMs;
    std::optional<qint64> balanceFen; // once paid
    QString message;                  // why it could not be created or was closed
};

struct TopUpRequest
{
    QString shopNo;
    qint64 amountFen = 0;
    QString channel;
    QString idempotencyKey; // one per top-up the tenant started (a UUID made by the flow)
};

// One recharge of the History screen (QR or cash), newest first.
struct Recharge
{
    QString receiptNo;
    QString channel; // "alipay", "wechat", "unionpay", "cash"
    qint64 amountFen = 0;
    qint64 atMs = 0;
    bool late = false;
    QString state;   // credited, partially_refunded, refunded
};

// A failed call, in words for the tenant's situation: `unavailable` (no connection — say so and
// disable top-ups), `refused` (prepayd said no; `message` is its reason), `wrong_pin`,
// `locked` (too many wrong PINs; try later).
struct BackendError
{
    QString code;
    QString message;
};

template<typename T>
using Reply = std::function<void(const std::optional<T> &value, const BackendError &error)>;

class Backend : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    virtual LinkState linkState() const = 0;
    virtual KioskProfile profile() const = 0;

    // The replica: the shop a tenant typed (exact shop number, case-insensitive), or an account by
    // id. nullopt when unknown (or closed).
    virtual std::optional<sync::DirectoryRow> findShop(const QString &shopNo) const = 0;
    virtual std::optional<sync::DirectoryRow> account(qint64 accountId) const = 0;
    // When the replica last heard from prepayd (ms since epoch; 0 = never). The screens say "data
    // may be out of date" from this and from each row's lastReadingMs.
    virtual qint64 lastSyncMs() const = 0;

    // Online only (else BackendError{"unavailable"} through the callback).
    virtual void checkPin(const QString &shopNo, const QString &pin, Reply<bool> done) = 0;
    virtual void createTopUp(const TopUpRequest &request, Reply<TopUp> done) = 0;
    virtual void cancelTopUp(qint64 attemptId, Reply<TopUp> done) = 0;
    virtual void recentRecharges(const QString &shopNo, Reply<QList<Recharge>> done) = 0;
    // What a receipt says (receipt.get's result, docs/api.md): the facts the receipt printer
    // words and draws. `not_found` / `forbidden` for a receipt this kiosk may not print.
    virtual void receiptFacts(const QString &receiptNo, Reply<QJsonObject> done) = 0;

    // Kiosk events for the backoffice (receipt printed, printer state, ...): queued in the outbox,
    // which survives restarts and drains when online. `kind` and `fields` as in docs/api.md.
    virtual void report(const QString &kind, const QJsonObject &fields) = 0;

Q_SIGNALS:
    void linkStateChanged();
    void profileChanged();
    // Rows changed in the replica (a batch applied or a snapshot taken).
    void directoryChanged(const QList<qint64> &accountIds);
    // A top-up this kiosk created changed (events.topup).
    void topUpChanged(const prepay::kiosk::TopUp &topUp);
};

} // namespace prepay::kiosk
