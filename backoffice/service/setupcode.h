// The first administrator. No default account or password exists, ever: while the building has
// no enabled admin, every start of prepayd issues a new one-time setup code (12 characters from
// an alphabet without look-alikes, printed once on stdout and in no log), stores only its
// SHA-256 (settings 'setup.admin_code_sha256', replacing any earlier code) and the API method
// setup.create_admin accepts it once, with the admin's own login and password. The other way in
// is `prepayctl operator add` by someone holding the database file.
#pragma once

#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Transaction;
}

namespace prepay::service {

// Inside a write job: a new code when no enabled admin exists (nullopt otherwise; an old code
// is then removed).
std::optional<QString> issueSetupCodeIfNeeded(store::Transaction &tx, qint64 nowMs);

enum class SetupCodeCheck { Accepted, NoCodeIssued, Wrong };
// Consumes the code when it matches (deletes the setting) in the caller's transaction, which
// then creates the admin; a wrong code changes nothing.
SetupCodeCheck consumeSetupCode(store::Transaction &tx, const QString &code);

} // namespace prepay::service
