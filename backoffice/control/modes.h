// Staff setting a metering point's control mode (DESIGN.md §3 "Control modes"): AUTO (prepaid),
// FORCE_ON (保电: the supply kept on whatever the balance, with a reason and an optional end) or
// FORCE_OFF (拉闸). The change is written to control_settings and the policy is applied to the
// point at once in the same transaction, so the relay command (if any) exists exactly when the
// change commits. Whether FORCE_ON needs a second person is the caller's rule (staff/approvals).
#pragma once

#include "policy.h"

#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace prepay::billing {
class TariffBook;
}
namespace prepay::store {
class Transaction;
}

namespace prepay::control {

struct ModeChange
{
    QString pointCode;
    Mode mode = Mode::Auto;
    QString reason;                   // required unless auto
    std::optional<qint64> untilMs;    // forced modes only: back to auto then
    qint64 operatorId = 0;
};

enum class ModeOutcome { Changed, Unchanged, NotFound, Invalid, StoreFailed };
QString modeOutcomeCode(ModeOutcome outcome);

struct ModeResult
{
    ModeOutcome outcome = ModeOutcome::StoreFailed;
    QString message;
    qint64 pointId = 0;
    QString before;           // the mode before ("auto", "force_on", "force_off")
    QList<qint64> commandIds; // hand them to the poller after the commit
};

ModeResult setMode(store::Transaction &tx, const billing::TariffBook &book, const ModeChange &change, qint64 nowMs);

} // namespace prepay::control
