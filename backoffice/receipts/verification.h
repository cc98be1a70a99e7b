// The verification string a receipt's QR holds, and how staff check one (receipt.verify):
//
//   PREPAY-R1:<receipt_no>:<amount_fen>:<at_ms>:<mac>
//
// mac = the first 16 hex digits (upper case) of HMAC-SHA256(site secret, everything before
// ":<mac>"), so the whole string is upper-case letters, digits, '-' and ':' — QR alphanumeric
// mode, the smallest code. 64 bits of MAC: a forger gets one guess per receipt.verify call.
//
// The site secret: 32 random bytes (OpenSSL RAND_bytes) made the first time a receipt is asked
// for and kept in receipt_keys (sql/0012_receipts.sql: one row, never changed or deleted, so old
// receipts keep verifying). It never leaves this file's functions: not logged, not in an API
// answer, not in the audit log. MACs are compared in constant time (CRYPTO_memcmp).
#pragma once

#include "receipts/receiptfacts.h"

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::receipts {

inline constexpr int kSecretBytes = 32;
inline constexpr int kMacHexChars = 16;
inline constexpr int kVerificationMaxChars = 160; // prefix, 64-char number, amounts, times, mac
static_assert(9 + 1 + kReceiptNoMaxChars + 1 + 18 + 1 + 16 + 1 + kMacHexChars <= kVerificationMaxChars);

QString verificationPrefix(); // "PREPAY-R1"

// The secret, if the site has one; *error set (and nullopt) when it cannot be read.
std::optional<QByteArray> readSecret(store::Connection &db, QString *error);
// Inside a write job: the site's secret, made now (random) if there is none yet. nullopt and
// *error when no random bytes can be had or the row cannot be written (the job should fail).
std::optional<QByteArray> ensureSecret(store::Transaction &tx, qint64 nowMs, QString *error);

// The QR content for a receipt.
QString verificationString(const QByteArray &secret, const QString &receiptNo, qint64 amountFen, qint64 atMs);

struct ParsedVerification
{
    QString receiptNo;
    qint64 amountFen = 0;
    qint64 atMs = 0;
    QByteArray macHex; // upper case, kMacHexChars
};
// nullopt when `text` is not of the form above (trimmed; the mac's hex digits in either case).
std::optional<ParsedVerification> parseVerification(const QString &text);
// Whether the mac is the secret's for the other three fields, compared in constant time.
bool macMatches(const QByteArray &secret, const ParsedVerification &parsed);

enum class VerifyOutcome {
    Valid,          // genuine, and the receipt says today what the string says
    Malformed,      // not a verification string
    BadMac,         // forged or altered (or this site never issued one)
    UnknownReceipt, // a genuine mac for a number we do not know (or may not show this viewer)
    AmountMismatch, // genuine, but the receipt's amount is not the string's
    TimeMismatch,   // genuine, but the receipt's time is not the string's
    StoreFailed,
};
QString verifyOutcomeCode(VerifyOutcome outcome); // "valid", "malformed", "bad_mac", "unknown_receipt", …

struct VerifyResult
{
    VerifyOutcome outcome = VerifyOutcome::StoreFailed;
    QString message;
    ReceiptFacts facts; // Valid, AmountMismatch, TimeMismatch: the receipt as the database has it
};

// Checks `text` against the database, in this order: its form, its mac, then the receipt it
// names (for `viewer`) and that the amount and time are the receipt's.
VerifyResult verifyReceipt(store::Connection &db, const QString &text, const Viewer &viewer, qint64 nowMs);

} // namespace prepay::receipts
