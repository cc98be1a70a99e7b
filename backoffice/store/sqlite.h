// The one wrapper around the SQLite C API (STYLE.md habit 10). It turns result codes into
// SqlError values at the call site and owns every handle (RAII); nothing above it sees a raw
// sqlite3*. Statements are prepared, never string-built.
//
// A Connection belongs to one thread at a time (it is opened with SQLITE_OPEN_NOMUTEX): the
// store's writer thread owns the only read-write connection, and every reading thread opens
// its own read-only one (Store::openReader()).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <QtCore/QtGlobal>

#include <memory>

struct sqlite3;
struct sqlite3_stmt;

namespace prepay::store {

struct SqlError
{
    int code = 0;         // primary result code (SQLITE_CONSTRAINT, SQLITE_BUSY, …); 0 = ok
    int extendedCode = 0; // e.g. SQLITE_CONSTRAINT_UNIQUE
    QString message;      // sqlite3_errmsg() and, where useful, what we were doing

    bool ok() const { return code == 0; }
    bool isBusy() const;
    bool isConstraint() const;
    QString toString() const;
};

class Connection;

// A prepared statement. Bind parameters are 1-based, as in SQLite. A statement whose prepare
// failed carries the error: binds do nothing and step() reports it, so call sites check once.
class Statement
{
public:
    enum class Step {
        Row,
        Done,
        Error
    };

    Statement(Statement &&other) noexcept;
    Statement &operator=(Statement &&other) noexcept;
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;
    ~Statement();

    Statement &bind(int index, qint64 value);
    Statement &bind(int index, int value) { return bind(index, qint64(value)); }
    Statement &bind(int index, const QString &value);
    Statement &bind(int index, const QByteArray &blob);
    Statement &bindNull(int index);

    Step step();
    // Runs a statement that returns no rows (INSERT, UPDATE, DDL) to completion.
    SqlError run();
    // Resets the statement for another execution; bindings are kept until rebound.
    void reset();

    const SqlError &error() const { return m_error; }

    bool isNull(int column) const;
    qint64 int64(int column) const;
    QString text(int column) const;
    QByteArray blob(int column) const;

private:
    friend class Connection;
    Statement(sqlite3 *db, sqlite3_stmt *stmt, SqlError error);
    void noteBindResult(int rc);

    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
    SqlError m_error;
};

class Connection
{
public:
    enum class Mode {
        ReadWrite,
        ReadOnly
    };

    // Opens (and for ReadWrite creates) the file, with extended result codes, the defensive
    // flag, foreign keys and recursive triggers on, and the given busy timeout. WAL and
    // synchronous are the store's business (Store::open), not every connection's.
    static std::unique_ptr<Connection> open(const QString &path, Mode mode, int busyTimeoutMs, SqlError *error);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    const QString &path() const { return m_path; }

    // Executes a script of one or more statements without results (migrations, PRAGMAs).
    SqlError exec(const QString &script);
    Statement prepare(const QString &sql);

    // The single integer value of a query such as "PRAGMA user_version"; error otherwise.
    qint64 queryInt(const QString &sql, SqlError *error);

    qint64 lastInsertRowId() const;
    int changes() const;
    bool inTransaction() const;

    // Replaces this database's whole content with that of the file at `sourcePath`, in one
    // transaction (SQLite's online backup API run "backwards"). Used to put a database back
    // as it was after a failed multi-step migration.
    SqlError restoreFrom(const QString &sourcePath);

    // Writes a copy of this whole database to the file at `targetPath` (created; its content
    // replaced if it exists: callers pass a new name) with the online backup API in one step:
    // one read snapshot, so the copy is consistent while another connection keeps writing (WAL).
    // The copy is left in rollback-journal mode (one self-contained file, no -wal or -shm) and
    // synced.
    SqlError backupTo(const QString &targetPath);

private:
    Connection(sqlite3 *db, QString path);
    SqlError lastError(int rc, const QString &context = {}) const;

    sqlite3 *m_db = nullptr;
    QString m_path;
};

// An explicit read transaction on a (reader) connection, so the statements of one request see
// one state of the file: BEGIN here (unless the connection is already in a transaction, which
// it then leaves alone), COMMIT when it goes out of scope. error() says whether BEGIN failed.
class ReadTransaction
{
public:
    explicit ReadTransaction(Connection &db)
        : m_db(db)
        , m_own(!db.inTransaction())
    {
        if (m_own)
            m_error = db.exec(QStringLiteral("BEGIN"));
    }
    ~ReadTransaction()
    {
        if (m_own && m_error.ok())
            m_db.exec(QStringLiteral("COMMIT"));
    }
    ReadTransaction(const ReadTransaction &) = delete;
    ReadTransaction &operator=(const ReadTransaction &) = delete;

    const SqlError &error() const { return m_error; }

private:
    Connection &m_db;
    const bool m_own;
    SqlError m_error;
};

} // namespace prepay::store
