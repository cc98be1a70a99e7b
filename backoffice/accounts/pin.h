// The tenant's kiosk PIN (issue 8): 4 to 6 digits, stored as a salted, slow hash on the account
// (accounts.pin_hash, pin_salt, pin_params) — PBKDF2-HMAC-SHA256 through OpenSSL, a random
// 16-byte salt per account, pin_params 'pbkdf2-sha256:i=N' so the cost can rise later without
// invalidating stored PINs. A PIN is never logged, audited or returned: only whether one is set.
// A hash costs ~50 ms: the service computes it off the event loop (staff::HashLimiter).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <optional>

namespace prepay::accounts {

struct PinLimits
{
    static constexpr int digitsMin = 4;
    static constexpr int digitsMax = 6;
    static constexpr int iterations = 100'000;   // PBKDF2 rounds of hashPin() today
    static constexpr int iterationsMin = 10'000; // a stored hash below this is refused (tampered)
    static constexpr int saltBytes = 16;
    static constexpr int hashBytes = 32;
};
static_assert(PinLimits::iterations >= PinLimits::iterationsMin && PinLimits::digitsMin <= PinLimits::digitsMax);

struct PinHash
{
    QByteArray hash;
    QByteArray salt;
    QString params; // 'pbkdf2-sha256:i=100000'
};

// 4–6 ASCII digits.
bool isValidPin(const QString &pin);
// nullopt and *error when the PIN is not valid or OpenSSL fails.
std::optional<PinHash> hashPin(const QString &pin, QString *error);
// Constant-time comparison; false for unknown params or a damaged hash.
bool verifyPin(const QString &pin, const PinHash &stored);

} // namespace prepay::accounts
