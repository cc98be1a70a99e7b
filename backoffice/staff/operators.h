// Operators: the staff who run the building (DESIGN.md §4 "Who may do what"). No default account
// exists, ever: the first admin is created by someone with the database file
// (`prepayctl operator add`), with a password they choose; it must be changed at first login.
//
// Passwords are stored as scrypt hashes (OpenSSL EVP_PBE_scrypt) with a random 16-byte salt and
// the parameters next to them ('scrypt:N=32768,r=8,p=1'), so the cost can rise later without
// invalidating stored hashes. One hash costs ~0.1 s and 32 MiB on a 2020s CPU.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Transaction;
}

namespace prepay::staff {

// The schema's roles.
bool isRole(const QString &role); // admin, operator, cashier, technician, auditor

struct PasswordHash
{
    QByteArray hash; // 32 bytes
    QByteArray salt; // 16 bytes
    QString params;  // 'scrypt:N=32768,r=8,p=1'
};

// Empty `error` on success. A password must have 10..256 characters.
std::optional<PasswordHash> hashPassword(const QString &password, QString *error);
bool verifyPassword(const QString &password, const PasswordHash &stored);
// The parameters hashPassword() writes today ('scrypt:N=32768,r=8,p=1'): what a stand-in hash
// must carry to cost the same as a real one (auth.h dummyHash()).
QString passwordParams();

struct NewOperator
{
    QString login;       // 2..64 characters: letters, digits, '.', '-', '_'
    QString displayName; // 1..100
    QString role;
    QString password;
    // Set by the service, which hashes through the HashLimiter before its write job (a hash must
    // not hold the writer for ~0.1 s): then `password` is ignored.
    std::optional<PasswordHash> passwordHash;
    bool mustChangePassword = true; // false only for the first admin, who chose the password
};

// Inside the caller's write transaction. The id, or nullopt with *error naming the field
// (the login taken, a weak password, an unknown role); nothing written then.
std::optional<qint64> createOperator(store::Transaction &tx, const NewOperator &op, qint64 nowMs, QString *error);

// The id of an enabled operator with this login (case-insensitive), or nullopt.
std::optional<qint64> operatorIdByLogin(store::Transaction &tx, const QString &login);

} // namespace prepay::staff
