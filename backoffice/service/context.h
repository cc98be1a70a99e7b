// What the method handlers share: the store (writes through its writer, reads through one
// read-only connection of the event-loop thread), the clock, the password hash limiter, the
// staff settings, the building CA (it signs kiosk certificates) and the server (its clients).
// Handlers run on the event loop; a write job runs on the store's writer and its completion
// comes back to the event loop through write(), so no handler ever blocks the loop on a write.
#pragma once

#include "pki/pki.h"
#include "service/config.h"
#include "staff/staffsettings.h"
#include "store/asyncwrite.h"
#include "store/store.h"

#include <QtCore/QJsonObject>
#include <QtCore/QMetaObject>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QThreadPool>

#include <functional>
#include <memory>

namespace prepay {
class Clock;
}
namespace prepay::audit {
struct Entry;
}
namespace prepay::billing {
class Biller;
}
namespace prepay::payments {
class PaymentService;
class RefundService;
}
namespace prepay::staff {
class HashLimiter;
}

namespace prepay::service {

class ApiServer;
class Call;

struct ServiceContext
{
    const Clock &clock;
    store::Store &store;
    store::Connection &reader;
    staff::HashLimiter &hashes;
    staff::StaffSettings staffSettings;
    Config config;
    pki::KeyAndCert ca;
    QObject *loop = nullptr;      // completions run on this object's thread
    ApiServer *server = nullptr;  // set once listening
    std::function<QJsonObject()> health;
    // Billing and meter commands, when prepayd runs them (account and money methods need them):
    // the biller charges final readings and holds the tariff book the policy uses; the ids of
    // meter commands queued by a committed action go to the poller.
    billing::Biller *biller = nullptr;
    std::function<void(const QList<qint64> &commandIds)> dispatchCommands;
    // The QR payment flow, when prepayd takes QR payments (topup.* need it).
    payments::PaymentService *payments = nullptr;
    // Provider refunds (refund.* and approval.decide wake it when one is approved).
    payments::RefundService *refunds = nullptr;
    std::shared_ptr<QThreadPool> waiters = std::make_shared<QThreadPool>();

    // Runs `job(Transaction&)` on the writer, then `done(store::Written<R>)` on the event loop.
    template<typename Job, typename Done>
    void write(Job &&job, Done &&done);
};

// An audit entry for a staff or kiosk call: who (operator, session, kiosk), from where, when,
// and the call's correlation id; the handler adds what, before, after and reason.
audit::Entry auditEntry(const ServiceContext &context, const Call &call, const QString &action,
    const QString &subjectKind, const QString &subjectId);

template<typename Job, typename Done>
void ServiceContext::write(Job &&job, Done &&done)
{
    store::writeThen(store, *waiters, loop, std::forward<Job>(job), std::forward<Done>(done));
}

} // namespace prepay::service
