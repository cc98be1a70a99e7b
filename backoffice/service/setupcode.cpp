#include "setupcode.h"

#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QRandomGenerator>

namespace prepay::service {

namespace {

const QString settingKey = QStringLiteral("setup.admin_code_sha256");

// Normalised before hashing: upper case, without the dashes and spaces people type.
QByteArray codeHash(const QString &code)
{
    QString normalised = code.toUpper();
    normalised.remove(QLatin1Char('-'));
    normalised.remove(QLatin1Char(' '));
    return QCryptographicHash::hash(normalised.toUtf8(), QCryptographicHash::Sha256).toHex();
}

} // namespace

std::optional<QString> issueSetupCodeIfNeeded(store::Transaction &tx, qint64 nowMs)
{
    store::Statement admins = tx.db().prepare(
        QStringLiteral("SELECT count(*) FROM operators WHERE role = 'admin' AND disabled = 0"));
    admins.step();
    if (admins.int64(0) > 0) {
        tx.db().prepare(QStringLiteral("DELETE FROM settings WHERE key = ?1")).bind(1, settingKey).run();
        return std::nullopt;
    }
    // 12 symbols from 31 (no 0/O, 1/I/L): ~59 bits; a wrong guess costs a rate-limited call.
    static const QString alphabet = QStringLiteral("23456789ABCDEFGHJKMNPQRSTUVWXYZ");
    QString code;
    for (int i = 0; i < 12; ++i) {
        if (i > 0 && i % 4 == 0)
            code += QLatin1Char('-');
        code += alphabet.at(int(QRandomGenerator::system()->bounded(quint32(alphabet.size()))));
    }
    tx.db()
        .prepare(QStringLiteral("INSERT INTO settings (key, value, updated_at_ms) VALUES (?1, ?2, ?3) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                                "updated_at_ms = excluded.updated_at_ms"))
        .bind(1, settingKey)
        .bind(2, QString::fromLatin1(codeHash(code)))
        .bind(3, nowMs)
        .run();
    return code;
}

SetupCodeCheck consumeSetupCode(store::Transaction &tx, const QString &code)
{
    store::Statement stored = tx.db().prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
    stored.bind(1, settingKey);
    if (stored.step() != store::Statement::Step::Row)
        return SetupCodeCheck::NoCodeIssued;
    const QByteArray expected = stored.text(0).toLatin1();
    // Equal-length hex digests; the comparison does not stop at the first difference.
    const QByteArray given = codeHash(code);
    int difference = expected.size() ^ given.size();
    for (qsizetype i = 0; i < qMin(expected.size(), given.size()); ++i)
        difference |= expected.at(i) ^ given.at(i);
    if (difference != 0)
        return SetupCodeCheck::Wrong;
    tx.db().prepare(QStringLiteral("DELETE FROM settings WHERE key = ?1")).bind(1, settingKey).run();
    return SetupCodeCheck::Accepted;
}

} // namespace prepay::service
