#include "sqlite.h"

#include <sqlite3.h>

#include <utility>

namespace prepay::store {

namespace {

SqlError makeError(sqlite3 *db, int rc, const QString &context)
{
    SqlError e;
    e.code = rc & 0xff;
    e.extendedCode = db ? sqlite3_extended_errcode(db) : rc;
    QString text = db ? QString::fromUtf8(sqlite3_errmsg(db)) : QString::fromUtf8(sqlite3_errstr(rc));
    e.message = context.isEmpty() ? text : context + QStringLiteral(": ") + text;
    return e;
}

} // namespace

bool SqlError::isBusy() const
{
    return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

bool SqlError::isConstraint() const
{
    return code == SQLITE_CONSTRAINT;
}

QString SqlError::toString() const
{
    if (ok())
        return QStringLiteral("ok");
    return QStringLiteral("%1 (sqlite %2/%3)").arg(message).arg(code).arg(extendedCode);
}

// ---- Statement ----------------------------------------------------------------------------

Statement::Statement(sqlite3 *db, sqlite3_stmt *stmt, SqlError error)
    : m_db(db)
    , m_stmt(stmt)
    , m_error(std::move(error))
{ }

Statement::Statement(Statement &&other) noexcept
    : m_db(std::exchange(other.m_db, nullptr))
    , m_stmt(std::exchange(other.m_stmt, nullptr))
    , m_error(std::move(other.m_error))
{ }

Statement &Statement::operator=(Statement &&other) noexcept
{
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_db = std::exchange(other.m_db, nullptr);
        m_stmt = std::exchange(other.m_stmt, nullptr);
        m_error = std::move(other.m_error);
    }
    return *this;
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

void Statement::noteBindResult(int rc)
{
    if (rc != SQLITE_OK && m_error.ok())
        m_error = makeError(m_db, rc, QStringLiteral("bind"));
}

Statement &Statement::bind(int index, qint64 value)
{
    if (m_stmt)
        noteBindResult(sqlite3_bind_int64(m_stmt, index, value));
    return *this;
}

Statement &Statement::bind(int index, const QString &value)
{
    if (m_stmt) {
        const QByteArray utf8 = value.toUtf8();
        noteBindResult(sqlite3_bind_text64(
            m_stmt, index, utf8.constData(), sqlite3_uint64(utf8.size()), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    return *this;
}

Statement &Statement::bind(int index, const QByteArray &blob)
{
    if (m_stmt) {
        // A null QByteArray would bind SQL NULL through a null pointer; bind an empty blob.
        static const char empty = 0;
        noteBindResult(sqlite3_bind_blob64(
            m_stmt, index, blob.isNull() ? &empty : blob.constData(), sqlite3_uint64(blob.size()), SQLITE_TRANSIENT));
    }
    return *this;
}

Statement &Statement::bindNull(int index)
{
    if (m_stmt)
        noteBindResult(sqlite3_bind_null(m_stmt, index));
    return *this;
}

Statement::Step Statement::step()
{
    if (!m_error.ok() || !m_stmt)
        return Step::Error;
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return Step::Row;
    if (rc == SQLITE_DONE)
        return Step::Done;
    m_error = makeError(m_db, rc, QString::fromUtf8(sqlite3_sql(m_stmt)));
    return Step::Error;
}

SqlError Statement::run()
{
    Step s = step();
    while (s == Step::Row)
        s = step();
    SqlError result = m_error;
    reset();
    return result;
}

void Statement::reset()
{
    if (!m_stmt)
        return;
    sqlite3_reset(m_stmt);
    // A failed prepare stays failed; a failed step is forgotten by a reset.
    m_error = SqlError{};
}

bool Statement::isNull(int column) const
{
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

qint64 Statement::int64(int column) const
{
    return sqlite3_column_int64(m_stmt, column);
}

QString Statement::text(int column) const
{
    const auto *data = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    return QString::fromUtf8(data, sqlite3_column_bytes(m_stmt, column));
}

QByteArray Statement::blob(int column) const
{
    const auto *data = static_cast<const char *>(sqlite3_column_blob(m_stmt, column));
    return QByteArray(data, sqlite3_column_bytes(m_stmt, column));
}

// ---- Connection ---------------------------------------------------------------------------

Connection::Connection(sqlite3 *db, QString path)
    : m_db(db)
    , m_path(std::move(path))
{ }

Connection::~Connection()
{
    // Every Statement must be gone by now; close_v2 would otherwise keep the handle alive.
    sqlite3_close_v2(m_db);
}

std::unique_ptr<Connection> Connection::open(const QString &path, Mode mode, int busyTimeoutMs, SqlError *error)
{
    const int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        | (mode == Mode::ReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    sqlite3 *db = nullptr;
    const int rc = sqlite3_open_v2(path.toUtf8().constData(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        if (error)
            *error = makeError(db, rc, QStringLiteral("cannot open %1").arg(path));
        sqlite3_close_v2(db);
        return nullptr;
    }
    std::unique_ptr<Connection> connection(new Connection(db, path));
    sqlite3_busy_timeout(db, busyTimeoutMs);
    // Defensive mode forbids writable_schema and other ways of corrupting the file from SQL.
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    // Opening is lazy: this is the first statement that touches the file, so it is also where
    // "file is not a database" shows up.
    // recursive_triggers makes the DELETE inside INSERT OR REPLACE fire the append-only
    // triggers too; without it REPLACE could overwrite a ledger or audit row.
    SqlError e = connection->exec(QStringLiteral(
        "PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = ON; SELECT count(*) FROM sqlite_schema;"));
    if (!e.ok()) {
        if (error)
            *error = SqlError{e.code, e.extendedCode, QStringLiteral("cannot open %1: %2").arg(path, e.message)};
        return nullptr;
    }
    return connection;
}

SqlError Connection::lastError(int rc, const QString &context) const
{
    return makeError(m_db, rc, context);
}

SqlError Connection::exec(const QString &script)
{
    char *message = nullptr;
    const int rc = sqlite3_exec(m_db, script.toUtf8().constData(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK)
        return {};
    SqlError e;
    e.code = rc & 0xff;
    e.extendedCode = sqlite3_extended_errcode(m_db);
    e.message = message ? QString::fromUtf8(message) : QString::fromUtf8(sqlite3_errstr(rc));
    sqlite3_free(message);
    return e;
}

Statement Connection::prepare(const QString &sql)
{
    sqlite3_stmt *stmt = nullptr;
    const QByteArray utf8 = sql.toUtf8();
    const int rc = sqlite3_prepare_v3(m_db, utf8.constData(), int(utf8.size()), 0, &stmt, nullptr);
    if (rc != SQLITE_OK)
        return Statement(m_db, nullptr, lastError(rc, QStringLiteral("prepare \"%1\"").arg(sql)));
    return Statement(m_db, stmt, {});
}

qint64 Connection::queryInt(const QString &sql, SqlError *error)
{
    Statement s = prepare(sql);
    if (s.step() != Statement::Step::Row) {
        if (error)
            *error
                = s.error().ok() ? SqlError{SQLITE_ERROR, SQLITE_ERROR, QStringLiteral("no row: ") + sql} : s.error();
        return 0;
    }
    return s.int64(0);
}

qint64 Connection::lastInsertRowId() const
{
    return sqlite3_last_insert_rowid(m_db);
}

int Connection::changes() const
{
    return sqlite3_changes(m_db);
}

bool Connection::inTransaction() const
{
    return sqlite3_get_autocommit(m_db) == 0;
}

SqlError Connection::restoreFrom(const QString &sourcePath)
{
    SqlError error;
    const std::unique_ptr<Connection> source = open(sourcePath, Mode::ReadOnly, 5000, &error);
    if (!source)
        return error;
    sqlite3_backup *backup = sqlite3_backup_init(m_db, "main", source->m_db, "main");
    if (!backup)
        return lastError(sqlite3_errcode(m_db), QStringLiteral("restore from %1").arg(sourcePath));
    const int stepRc = sqlite3_backup_step(backup, -1);
    const int finishRc = sqlite3_backup_finish(backup);
    if (stepRc != SQLITE_DONE)
        return lastError(stepRc, QStringLiteral("restore from %1").arg(sourcePath));
    if (finishRc != SQLITE_OK)
        return lastError(finishRc, QStringLiteral("restore from %1").arg(sourcePath));
    return {};
}

SqlError Connection::backupTo(const QString &targetPath)
{
    SqlError error;
    const std::unique_ptr<Connection> target = open(targetPath, Mode::ReadWrite, 5000, &error);
    if (!target)
        return error;
    const QString context = QStringLiteral("backup to %1").arg(targetPath);
    // The target's default synchronous=FULL makes the copy's commit durable.
    sqlite3_backup *backup = sqlite3_backup_init(target->m_db, "main", m_db, "main");
    if (!backup)
        return target->lastError(sqlite3_errcode(target->m_db), context);
    // All pages in one step: the source's read transaction lasts for the whole copy, so it is
    // one snapshot. (Several smaller steps would restart whenever another process writes.)
    const int stepRc = sqlite3_backup_step(backup, -1);
    const int finishRc = sqlite3_backup_finish(backup);
    if (stepRc != SQLITE_DONE)
        return target->lastError(stepRc, context);
    if (finishRc != SQLITE_OK)
        return target->lastError(finishRc, context);
    // The copy carries the source's header, WAL mode included; a backup is one file.
    Statement journal = target->prepare(QStringLiteral("PRAGMA journal_mode = DELETE"));
    if (journal.step() != Statement::Step::Row || journal.text(0) != u"delete")
        return journal.error().ok() ? SqlError{SQLITE_ERROR, SQLITE_ERROR, context + QStringLiteral(": cannot leave WAL mode")}
                                    : journal.error();
    return {};
}

} // namespace prepay::store
