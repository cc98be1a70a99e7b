// The account lifecycle (issue 5, DESIGN.md §3): opening a tenant account, closing it with its
// money settled, and replacing a meter under a metering point. Each call is ONE business event
// inside the caller's write transaction: everything it writes — account rows, readings, charges,
// ledger entries, installations, meter commands — commits together or not at all. A refused
// request (a named outcome with a message naming the field) writes nothing: the call rolls the
// transaction back.
//
// open      A new account (or one the seed created 'not_opened') becomes 'open': contact, its
//           metering points linked (one account may hold several points; they share one
//           wallet), its tariff assigned from today (local date), thresholds per point, the
//           wallet created. The control policy then looks at its points at once.
// close     Final readings (manual values a person read on the display, optional: without them
//           the last stored reading is the final one) are validated like polls, stored and
//           charged; then the balance is settled — refunded in cash at the counter (a refunds
//           row, paid out at once) or transferred to another open account — the points are
//           unlinked and the account is closed; the policy trips the supply (no open account).
//           An account in arrears is not closed: take the payment first.
// replace   The old meter's final reading (manual or the last stored), charged on the old
//           installation, which is closed with its final registers and meter-side balance; the
//           new meter (from stock, or registered now as the old one's model) installed on the
//           same bus address with its initial registers; the point's billing cursor moves to the
//           new installation keeping its sub-fen remainder and tier accumulators, so history and
//           tiers continue on the metering point. Meter-side money: the tenant's money is in
//           the wallet already (the takeover credited what meters held, every later top-up is a
//           ledger credit), so no ledger entry moves; the old meter's final balance is recreated
//           on a new prepaid meter by one durable recharge command (换表补电; txn 0x80000000 +
//           the new installation's id), so the new meter does not trip itself.
//
// Idempotent by meaning: opening an account already open with the same points, closing a closed
// account, replacing with the meter already installed on the point → AlreadyDone, nothing
// written. Money moves carry their own keys ("close:account:<id>:refund", …).
//
// prepayd reads its poll plan at start: after a replacement on the file, restart it (the API of
// the Service issue will do this inside prepayd).
#pragma once

#include "api/money.h"

#include <QtCore/QList>
#include <QtCore/QString>

#include <array>
#include <memory>
#include <optional>

namespace prepay::billing {
class Biller;
}
namespace prepay::store {
class Transaction;
}

namespace prepay::accounts {

enum class LifecycleOutcome {
    Done,
    AlreadyDone, // the request's effect is already there: nothing written
    Invalid,     // a field breaks a rule (message names it)
    NotFound,    // an account, metering point, tariff or operator named does not exist
    Conflict,    // the state forbids it (point linked to another account, meter installed elsewhere, …)
    InArrears,   // closing an account whose balance is below zero
    StoreFailed, // SQLite refused; nothing written
};
QString lifecycleOutcomeCode(LifecycleOutcome outcome); // "done", "already_done", …

// Registers as a person reads them on the meter's display (or as the new meter arrives).
struct ManualRegisters
{
    Energy total;                                 // whole 0.01 kWh (10 Wh), as meters count
    std::optional<std::array<Energy, 4>> slots;   // sharp, peak, flat, valley; nullopt = not read
    std::optional<Money> balance;                 // meter-side balance (prepaid meters)
    std::optional<int> purchaseCount;             // 0..65535
    std::optional<Money> totalPurchased;
};

struct PointThresholds
{
    std::optional<Money> alarm1;
    std::optional<Money> alarm2;
    std::optional<Money> overdraftLimit;
};

struct OpenAccountRequest
{
    QString shopNo;      // 1..32 characters
    QString displayName; // 1..100
    QString contactName;
    QString contactPhone; // digits and '+', 5..20; empty = none
    QStringList pointCodes; // ≥ 1 metering point codes ('A-1F-101')
    QString tariffCode;     // assigned to the account from today; empty = keep what is assigned
    PointThresholds thresholds; // applied to every point; unset = building defaults
    std::optional<qint64> operatorId;
};

struct CloseFinalReading
{
    QString pointCode;
    ManualRegisters registers;
};

enum class Settlement {
    None,       // only for a balance of exactly 0.00
    RefundCash, // paid out at the counter now
    Transfer,   // to another open account's wallet
};

struct CloseAccountRequest
{
    QString shopNo; // the live account with this shop number
    QList<CloseFinalReading> finalReadings;
    Settlement settlement = Settlement::None;
    QString transferToShopNo; // Settlement::Transfer
    qint64 operatorId = 0;    // required: settlement moves money
    QString reason;           // required
};

struct ReplaceMeterRequest
{
    QString pointCode;
    quint32 newSerial = 0;
    std::optional<ManualRegisters> oldFinal;   // nullopt: the last stored reading is final
    std::optional<ManualRegisters> newInitial; // nullopt: the first poll opens the segment
    qint64 operatorId = 0;                     // required
    QString note;
};

struct LifecycleResult
{
    LifecycleOutcome outcome = LifecycleOutcome::Invalid;
    QString message;      // for people: what was done, or what was wrong and where
    qint64 accountId = 0; // open, close
    qint64 installationId = 0; // replace: the new installation
    Money settled;        // close: refunded or transferred
    Money finalCharges;   // close, replace: charged for the final readings
    QList<qint64> commandIds; // meter commands queued (hand them to the buses after the commit)
    bool ok() const { return outcome == LifecycleOutcome::Done || outcome == LifecycleOutcome::AlreadyDone; }
};

// `biller` charges the final readings (its tariff book also decides friendly-hour holidays for
// the policy); the tariff assignments written by openAccount() are read from the transaction.
LifecycleResult openAccount(store::Transaction &tx, billing::Biller &biller, const OpenAccountRequest &request,
    qint64 nowMs);
LifecycleResult closeAccount(store::Transaction &tx, billing::Biller &biller, const CloseAccountRequest &request,
    qint64 nowMs);
LifecycleResult replaceMeter(store::Transaction &tx, billing::Biller &biller, const ReplaceMeterRequest &request,
    qint64 nowMs);

// The recharge txn of the balance carried to the meter of a new installation.
quint32 replacementRechargeTxn(qint64 installationId);

} // namespace prepay::accounts
