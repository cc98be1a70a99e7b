// The controller: the control policy (policy.h) applied to metering points, continuously — after
// every readings batch for the points it charged, and after every credit — never in a daily
// batch (FEATURE-LANDSCAPE.md §4.4). Inside the caller's write transaction it:
//  - gathers each point's inputs: control settings (point → building → site), the tenant's
//    wallet, the installed meter and what the poller last saw of its relay (meter_state);
//  - decides; a changed decision (a crossing) is written to control_state with the next
//    decision_seq and carried out by ONE durable meter command keyed "policy:<point>:<seq>"
//    (off → relay_trip; on because funded → relay_close; on because of 保电, infrastructure or
//    friendly hours → set_mode force_on), unless the meter already shows the wanted relay mode;
//  - repairs: when the meter's last reading shows another relay mode than the decision wants
//    and no command is on its way, one more command (keyed by that reading), at most once per
//    'control.relay_min_interval_ms' — so the relay reaches the policy within a poll cycle or
//    two once the meter is reachable (RELIABILITY.md I9);
//  - puts an expired 保电 back to AUTO;
//  - raises and clears the balance alarms of the point: alarm1 (balance ≤ its alarm 1
//    threshold), alarm2, arrears (balance ≤ 0), with point → building → site thresholds.
// The ids of the commands it queued are returned: hand them to the poller after the commit.
// A batch's points are read in one statement (and their open balance alarms in another) before
// any of them is decided; an alarm is written only when its state changes (alarms.h: raising an
// open alarm or clearing a closed one changes nothing anyway).
//
// preview() answers "who would be cut now, and why" without writing anything
// (`prepayctl control preview`).
#pragma once

#include "policy.h"

#include "api/money.h"

#include <QtCore/QList>
#include <QtCore/QSet>
#include <QtCore/QString>

#include <optional>

namespace prepay::billing {
class TariffBook;
}
namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::control {

// One point as evaluated.
struct PointEvaluation
{
    qint64 pointId = 0;
    QString pointCode;
    qint64 accountId = 0; // 0 = none
    QString shopNo;
    QString displayName;
    std::optional<qint64> meterId; // installed meter
    QString meterCapability;       // 'prepaid', 'remote_only'
    QString observedRelayMode;     // from the meter's last reading ('' = never read)
    QString observedRelayState;
    Money balance;
    Money overdraftLimit;
    Mode mode = Mode::Auto;
    Decision decision;
    std::optional<Desired> previousDesired;
    std::optional<Reason> previousReason;
    bool changed = false;              // a crossing: desired or the command it needs changed
    QString commandKind;               // what the decision needs ("relay_trip", "relay_close", "set_mode")
    QString wantedRelayMode;           // "force_off", "auto", "force_on"
    std::optional<qint64> commandId;   // queued by this evaluation
};

class Controller
{
public:
    // Evaluates the given points (and writes: control_state, commands, alarms, expired 保电).
    // Returns the ids of the commands queued. A failed statement fails the transaction.
    static QList<qint64> evaluate(store::Transaction &tx, const billing::TariffBook &book, const QSet<qint64> &points,
        qint64 nowMs, QList<PointEvaluation> *evaluations = nullptr);
    // The points of these tenant accounts (current links), for "after a credit".
    static QSet<qint64> pointsOfAccounts(store::Transaction &tx, const QSet<qint64> &accounts);
};

// Every active point as the policy would decide now (nothing written). `error` says why the
// database could not be read.
QList<PointEvaluation> preview(store::Connection &db, const billing::TariffBook &book, qint64 nowMs, QString *error);

} // namespace prepay::control
