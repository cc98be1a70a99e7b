#include "operators.h"

#include "store/store.h"

#include <QtCore/QRegularExpression>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace prepay::staff {

namespace {

constexpr quint64 kScryptN = 32768;
constexpr quint64 kScryptR = 8;
constexpr quint64 kScryptP = 1;
constexpr int kHashBytes = 32;
constexpr int kSaltBytes = 16;
constexpr int kPasswordMinChars = 10;
constexpr int kPasswordMaxChars = 256;

bool scrypt(const QByteArray &password, const QByteArray &salt, quint64 n, quint64 r, quint64 p, QByteArray *out)
{
    out->resize(kHashBytes);
    const quint64 maxMem = 128 * r * n * p + 4 * 1024 * 1024;
    return EVP_PBE_scrypt(password.constData(), size_t(password.size()),
               reinterpret_cast<const unsigned char *>(salt.constData()), size_t(salt.size()), n, r, p, maxMem,
               reinterpret_cast<unsigned char *>(out->data()), size_t(out->size()))
        == 1;
}

} // namespace

bool isRole(const QString &role)
{
    return role == u"admin" || role == u"operator" || role == u"cashier" || role == u"technician" || role == u"auditor";
}

std::optional<PasswordHash> hashPassword(const QString &password, QString *error)
{
    if (password.size() < kPasswordMinChars || password.size() > kPasswordMaxChars) {
        *error = QStringLiteral("password: %1 to %2 characters").arg(kPasswordMinChars).arg(kPasswordMaxChars);
        return std::nullopt;
    }
    PasswordHash h;
    h.salt.resize(kSaltBytes);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(h.salt.data()), kSaltBytes) != 1) {
        *error = QStringLiteral("no random bytes for the salt (OpenSSL RAND_bytes failed)");
        return std::nullopt;
    }
    if (!scrypt(password.toUtf8(), h.salt, kScryptN, kScryptR, kScryptP, &h.hash)) {
        *error = QStringLiteral("scrypt failed (OpenSSL EVP_PBE_scrypt)");
        return std::nullopt;
    }
    h.params = passwordParams();
    return h;
}

QString passwordParams()
{
    return QStringLiteral("scrypt:N=%1,r=%2,p=%3").arg(kScryptN).arg(kScryptR).arg(kScryptP);
}

bool verifyPassword(const QString &password, const PasswordHash &stored)
{
    static const QRegularExpression re(QStringLiteral("^scrypt:N=(\\d+),r=(\\d+),p=(\\d+)$"));
    const QRegularExpressionMatch m = re.match(stored.params);
    if (!m.hasMatch() || stored.hash.size() != kHashBytes)
        return false;
    const quint64 n = m.captured(1).toULongLong();
    const quint64 r = m.captured(2).toULongLong();
    const quint64 p = m.captured(3).toULongLong();
    if (n < 2 || n > (1u << 20) || r < 1 || r > 32 || p < 1 || p > 16)
        return false;
    QByteArray computed;
    if (!scrypt(password.toUtf8(), stored.salt, n, r, p, &computed))
        return false;
    return CRYPTO_memcmp(computed.constData(), stored.hash.constData(), size_t(kHashBytes)) == 0;
}

std::optional<qint64> createOperator(store::Transaction &tx, const NewOperator &op, qint64 nowMs, QString *error)
{
    static const QRegularExpression loginPattern(QStringLiteral("^[A-Za-z0-9._-]{2,64}$"));
    if (!loginPattern.match(op.login).hasMatch()) {
        *error = QStringLiteral("login: 2 to 64 letters, digits, '.', '-' or '_'");
        return std::nullopt;
    }
    const QString name = op.displayName.trimmed();
    if (name.isEmpty() || name.size() > 100) {
        *error = QStringLiteral("name: 1 to 100 characters");
        return std::nullopt;
    }
    if (!isRole(op.role)) {
        *error = QStringLiteral("role: '%1' is not one of admin, operator, cashier, technician, auditor").arg(op.role);
        return std::nullopt;
    }
    {
        // Disabled operators keep their login (the audit log names them).
        store::Statement taken = tx.prepare(QStringLiteral("SELECT 1 FROM operators WHERE login = ?1"));
        taken.bind(1, op.login);
        if (taken.step() == store::Statement::Step::Row) {
            *error = QStringLiteral("login: '%1' is taken").arg(op.login);
            return std::nullopt;
        }
    }
    const std::optional<PasswordHash> h = op.passwordHash ? op.passwordHash : hashPassword(op.password, error);
    if (!h)
        return std::nullopt;
    store::Statement s = tx.prepare(QStringLiteral(
        "INSERT INTO operators (login, display_name, role, password_hash, password_salt, password_params, "
        "must_change_password, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?7, ?7)"));
    s.bind(1, op.login).bind(2, name).bind(3, op.role).bind(4, h->hash).bind(5, h->salt).bind(6, h->params);
    s.bind(7, nowMs).bind(8, op.mustChangePassword ? 1 : 0);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        *error = e.toString();
        return std::nullopt;
    }
    return tx.db().lastInsertRowId();
}

std::optional<qint64> operatorIdByLogin(store::Transaction &tx, const QString &login)
{
    store::Statement s = tx.prepare(QStringLiteral("SELECT id FROM operators WHERE login = ?1 AND disabled = 0"));
    s.bind(1, login);
    if (s.step() != store::Statement::Step::Row)
        return std::nullopt;
    return s.int64(0);
}

} // namespace prepay::staff
