// Taking over a building (commissioning): the prepaid meters hold what their tenants bought
// under the previous system, and that money must exist in the ledger before the control policy
// looks at the wallets — otherwise every tenant would be in arrears at the first poll.
//
// takeOverMeterBalances() credits, for each current installation of an open account whose
// meter-side balance was recorded when it was installed (meter_installations.initial_balance_fen
// > 0) and is the point's first installation (a replacement meter's money is carried by the
// replacement, lifecycle.h), that amount to the tenant's wallet, once: as a cash top-up order
// and payment attempt (keyed "takeover:installation:<id>", out_trade_no "TKO<id>") credited
// through the ledger in the same transaction — the money the property office holds from the old
// system's sales. Run again, it finds the keys and credits nothing twice. The meters are not
// recharged: they already hold the money.
//
// Inside the caller's write transaction; `prepayctl ledger takeover --db FILE` runs it.
#pragma once

#include "api/money.h"

#include <QtCore/QStringList>

namespace prepay::store {
class Transaction;
}

namespace prepay::accounts {

struct TakeoverReport
{
    int credited = 0;        // installations credited now
    int alreadyCredited = 0; // found credited by an earlier run
    int accounts = 0;        // distinct tenant accounts credited now
    Money total;             // credited now
    QStringList problems;    // installations that could not be credited, and why
};

TakeoverReport takeOverMeterBalances(store::Transaction &tx, qint64 nowMs);

} // namespace prepay::accounts
