#include "verification.h"

#include "store/sqlite.h"
#include "store/store.h"

#include <QtCore/QMessageAuthenticationCode>
#include <QtCore/QRegularExpression>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace prepay::receipts {

namespace {

// Everything the mac covers: the string without ":<mac>".
QString signedPart(const QString &receiptNo, qint64 amountFen, qint64 atMs)
{
    return QStringLiteral("%1:%2:%3:%4").arg(verificationPrefix(), receiptNo).arg(amountFen).arg(atMs);
}

QByteArray macOf(const QByteArray &secret, const QString &signedText)
{
    return QMessageAuthenticationCode::hash(signedText.toUtf8(), secret, QCryptographicHash::Sha256)
        .toHex()
        .left(kMacHexChars)
        .toUpper();
}

VerifyResult verdict(VerifyOutcome outcome, const QString &message)
{
    VerifyResult r;
    r.outcome = outcome;
    r.message = message;
    return r;
}

} // namespace

QString verificationPrefix()
{
    return QStringLiteral("PREPAY-R1");
}

std::optional<QByteArray> readSecret(store::Connection &db, QString *error)
{
    store::Statement s = db.prepare(QStringLiteral("SELECT secret FROM receipt_keys WHERE id = 1"));
    switch (s.step()) {
    case store::Statement::Step::Row: break;
    case store::Statement::Step::Done: return std::nullopt;
    case store::Statement::Step::Error:
        *error = QStringLiteral("reading the receipt secret: ") + s.error().toString();
        return std::nullopt;
    }
    const QByteArray secret = s.blob(0);
    if (secret.size() != kSecretBytes) { // the schema's CHECK: cannot happen
        *error = QStringLiteral("the receipt secret is not %1 bytes").arg(kSecretBytes);
        return std::nullopt;
    }
    return secret;
}

std::optional<QByteArray> ensureSecret(store::Transaction &tx, qint64 nowMs, QString *error)
{
    if (std::optional<QByteArray> existing = readSecret(tx.db(), error))
        return existing;
    if (!error->isEmpty())
        return std::nullopt;
    QByteArray secret(kSecretBytes, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(secret.data()), kSecretBytes) != 1) {
        *error = QStringLiteral("no random bytes for the receipt secret (OpenSSL RAND_bytes failed)");
        return std::nullopt;
    }
    store::Statement insert
        = tx.prepare(QStringLiteral("INSERT INTO receipt_keys (id, secret, created_at_ms) VALUES (1, ?1, ?2)"));
    insert.bind(1, secret).bind(2, nowMs);
    if (const store::SqlError e = insert.run(); !e.ok()) {
        *error = QStringLiteral("storing the receipt secret: ") + e.toString();
        return std::nullopt;
    }
    return secret;
}

QString verificationString(const QByteArray &secret, const QString &receiptNo, qint64 amountFen, qint64 atMs)
{
    const QString text = signedPart(receiptNo, amountFen, atMs);
    return text + QLatin1Char(':') + QString::fromLatin1(macOf(secret, text));
}

std::optional<ParsedVerification> parseVerification(const QString &input)
{
    const QString text = input.trimmed();
    if (text.size() > kVerificationMaxChars)
        return std::nullopt;
    static const QRegularExpression form(
        QStringLiteral("^PREPAY-R1:([A-Z0-9]{%1,%2}):([1-9][0-9]{0,17}):([0-9]{1,16}):([0-9A-Fa-f]{%3})$")
            .arg(kReceiptNoMinChars)
            .arg(kReceiptNoMaxChars)
            .arg(kMacHexChars));
    const QRegularExpressionMatch m = form.match(text);
    if (!m.hasMatch())
        return std::nullopt;
    ParsedVerification p;
    bool amountOk = false;
    bool atOk = false;
    p.receiptNo = m.captured(1);
    p.amountFen = m.captured(2).toLongLong(&amountOk);
    p.atMs = m.captured(3).toLongLong(&atOk);
    p.macHex = m.captured(4).toLatin1().toUpper();
    if (!amountOk || !atOk)
        return std::nullopt;
    return p;
}

bool macMatches(const QByteArray &secret, const ParsedVerification &parsed)
{
    const QByteArray expected = macOf(secret, signedPart(parsed.receiptNo, parsed.amountFen, parsed.atMs));
    if (parsed.macHex.size() != expected.size())
        return false;
    return CRYPTO_memcmp(expected.constData(), parsed.macHex.constData(), size_t(expected.size())) == 0;
}

QString verifyOutcomeCode(VerifyOutcome outcome)
{
    switch (outcome) {
    case VerifyOutcome::Valid: return QStringLiteral("valid");
    case VerifyOutcome::Malformed: return QStringLiteral("malformed");
    case VerifyOutcome::BadMac: return QStringLiteral("bad_mac");
    case VerifyOutcome::UnknownReceipt: return QStringLiteral("unknown_receipt");
    case VerifyOutcome::AmountMismatch: return QStringLiteral("amount_mismatch");
    case VerifyOutcome::TimeMismatch: return QStringLiteral("time_mismatch");
    case VerifyOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

VerifyResult verifyReceipt(store::Connection &db, const QString &text, const Viewer &viewer, qint64 nowMs)
{
    const std::optional<ParsedVerification> parsed = parseVerification(text);
    if (!parsed)
        return verdict(VerifyOutcome::Malformed,
            QStringLiteral("not a receipt's verification string (PREPAY-R1:<receipt no>:<amount fen>:<at ms>:<mac>)"));
    QString error;
    const std::optional<QByteArray> secret = readSecret(db, &error);
    if (!error.isEmpty())
        return verdict(VerifyOutcome::StoreFailed, error);
    // No secret: this site never issued a receipt, so no mac can be its.
    if (!secret || !macMatches(*secret, *parsed))
        return verdict(VerifyOutcome::BadMac,
            QStringLiteral("the mac does not match: this receipt was not issued here as it reads, or it was altered"));

    const FactsResult facts = readReceiptFacts(db, parsed->receiptNo, viewer, nowMs);
    switch (facts.outcome) {
    case FactsOutcome::Found: break;
    case FactsOutcome::NotFound:
    case FactsOutcome::NotIssued:
    case FactsOutcome::TooOld:
        return verdict(VerifyOutcome::UnknownReceipt,
            QStringLiteral("no receipt %1 (the mac is genuine: the database may have been restored from an older "
                           "backup)")
                .arg(parsed->receiptNo));
    case FactsOutcome::StoreFailed: return verdict(VerifyOutcome::StoreFailed, facts.message);
    }
    VerifyResult r;
    r.facts = facts.facts;
    if (facts.facts.amountFen != parsed->amountFen) {
        r.outcome = VerifyOutcome::AmountMismatch;
        r.message = QStringLiteral("receipt %1 is for %2 fen, the string says %3")
                        .arg(parsed->receiptNo)
                        .arg(facts.facts.amountFen)
                        .arg(parsed->amountFen);
    } else if (facts.facts.atMs != parsed->atMs) {
        r.outcome = VerifyOutcome::TimeMismatch;
        r.message = QStringLiteral("receipt %1 is of %2 ms, the string says %3")
                        .arg(parsed->receiptNo)
                        .arg(facts.facts.atMs)
                        .arg(parsed->atMs);
    } else {
        r.outcome = VerifyOutcome::Valid;
        r.message = QStringLiteral("receipt %1 is genuine").arg(parsed->receiptNo);
    }
    return r;
}

} // namespace prepay::receipts
