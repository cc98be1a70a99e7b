#include "store.h"

#include "api/check.h"
#include "api/clock.h"
#include "storelog.h"

#include <QtCore/QFileInfo>

namespace prepay::store {

Q_LOGGING_CATEGORY(lcStore, "prepay.store")

void Transaction::rollback(const QString &reason)
{
    m_rollback = true;
    if (m_reason.isEmpty())
        m_reason = reason;
}

void Transaction::fail(const SqlError &error)
{
    m_rollback = true;
    if (m_error.ok())
        m_error = error;
}

QString writeStatusCode(WriteStatus status)
{
    switch (status) {
    case WriteStatus::Committed: return QStringLiteral("committed");
    case WriteStatus::RolledBack: return QStringLiteral("rolled_back");
    case WriteStatus::Failed: return QStringLiteral("failed");
    case WriteStatus::Stopped: return QStringLiteral("stopped");
    }
    Q_UNREACHABLE();
}

QString openOutcomeCode(OpenOutcome outcome)
{
    switch (outcome) {
    case OpenOutcome::Opened: return QStringLiteral("opened");
    case OpenOutcome::CannotOpen: return QStringLiteral("cannot_open");
    case OpenOutcome::CannotConfigure: return QStringLiteral("cannot_configure");
    case OpenOutcome::NewerThanCode: return QStringLiteral("newer_than_code");
    case OpenOutcome::BackupFailed: return QStringLiteral("backup_failed");
    case OpenOutcome::MigrationFailed: return QStringLiteral("migration_failed");
    }
    Q_UNREACHABLE();
}

int exitCodeFor(OpenOutcome outcome)
{
    switch (outcome) {
    case OpenOutcome::Opened: return 0;
    case OpenOutcome::NewerThanCode: return 65;   // EX_DATAERR
    case OpenOutcome::CannotOpen: return 66;      // EX_NOINPUT
    case OpenOutcome::MigrationFailed: return 70; // EX_SOFTWARE
    case OpenOutcome::BackupFailed: return 73;    // EX_CANTCREAT
    case OpenOutcome::CannotConfigure: return 74; // EX_IOERR
    }
    Q_UNREACHABLE();
}

OpenResult Store::open(const QString &path, const Clock &clock, const StoreOptions &options)
{
    OpenResult result;
    SqlError error;
    std::unique_ptr<Connection> db = Connection::open(path, Connection::Mode::ReadWrite, options.busyTimeoutMs, &error);
    if (!db) {
        result.outcome = OpenOutcome::CannotOpen;
        result.message = error.message;
        return result;
    }

    // Journal mode is set once, here, by the process that owns the file (RELIABILITY.md §2:
    // switching it from several processes at once fails with "database is locked").
    bool walOk = false;
    {
        Statement journal = db->prepare(QStringLiteral("PRAGMA journal_mode = WAL"));
        walOk = journal.step() == Statement::Step::Row && journal.text(0) == u"wal";
    }
    const SqlError syncError = db->exec(QStringLiteral("PRAGMA synchronous = FULL"));
    if (!walOk || !syncError.ok()) {
        result.outcome = OpenOutcome::CannotConfigure;
        result.message = QStringLiteral("cannot put %1 in WAL mode with synchronous=FULL%2")
                             .arg(path, syncError.ok() ? QString() : QStringLiteral(": ") + syncError.toString());
        return result;
    }

    const QString stamp = clock.wallNow().toString(QStringLiteral("yyyyMMddThhmmsszzz"));
    result.migration = migrate(*db, options.migrations, stamp);
    result.message = result.migration.message;
    switch (result.migration.outcome) {
    case MigrationOutcome::UpToDate:
    case MigrationOutcome::Migrated: break;
    case MigrationOutcome::NewerThanCode: result.outcome = OpenOutcome::NewerThanCode; return result;
    case MigrationOutcome::BackupFailed: result.outcome = OpenOutcome::BackupFailed; return result;
    case MigrationOutcome::Failed:
    case MigrationOutcome::RestoreFailed: result.outcome = OpenOutcome::MigrationFailed; return result;
    }

    const int version = result.migration.toVersion;
    result.outcome = OpenOutcome::Opened;
    result.store.reset(new Store(QFileInfo(path).absoluteFilePath(), std::move(db), version, options.busyTimeoutMs));
    qCInfo(lcStore, "opened %s (schema v%d)", qUtf8Printable(result.store->path()), version);
    return result;
}

Store::Store(QString path, std::unique_ptr<Connection> writer, int schemaVersion, int busyTimeoutMs)
    : m_path(std::move(path))
    , m_writer(std::move(writer))
    , m_schemaVersion(schemaVersion)
    , m_busyTimeoutMs(busyTimeoutMs)
{
    m_thread = std::thread([this] { writerLoop(); });
}

Store::~Store()
{
    stop();
}

void Store::stop()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping && !m_thread.joinable())
            return;
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void Store::enqueue(std::unique_ptr<Task> task)
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_stopping) {
            m_queue.push_back(std::move(task));
            m_wake.notify_one();
            return;
        }
    }
    task->finish(WriteStatus::Stopped, {}, QStringLiteral("the store is shutting down"));
}

std::unique_ptr<Connection> Store::openReader(SqlError *error) const
{
    return Connection::open(m_path, Connection::Mode::ReadOnly, m_busyTimeoutMs, error);
}

void Store::writerLoop()
{
    for (;;) {
        std::unique_ptr<Task> task;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty())
                return; // stopping, and everything submitted has run
            task = std::move(m_queue.front());
            m_queue.pop_front();
        }
        runOne(*task);
    }
}

void Store::runOne(Task &task)
{
    Connection &db = *m_writer;
    // Only another process can hold the write lock (this thread is the only writer here);
    // BEGIN IMMEDIATE waits up to the busy timeout for it, and the job fails if it never
    // comes, rather than running on a snapshot that could go stale.
    if (const SqlError e = db.exec(QStringLiteral("BEGIN IMMEDIATE")); !e.ok()) {
        qCWarning(lcStore, "cannot begin a write transaction: %s", qUtf8Printable(e.toString()));
        task.finish(WriteStatus::Failed, e, {});
        return;
    }

    Transaction tx(db);
    try {
        task.run(tx);
    } catch (const std::exception &ex) {
        tx.fail(SqlError{1, 1, QStringLiteral("write job threw: %1").arg(QString::fromUtf8(ex.what()))});
    } catch (...) {
        tx.fail(SqlError{1, 1, QStringLiteral("write job threw")});
    }
    // A job that commits or rolls back by itself breaks "one job, one transaction".
    PREPAY_CHECK(db.inTransaction());

    if (tx.rollbackRequested()) {
        db.exec(QStringLiteral("ROLLBACK"));
        task.finish(tx.error().ok() ? WriteStatus::RolledBack : WriteStatus::Failed, tx.error(), tx.reason());
        return;
    }
    if (const SqlError e = db.exec(QStringLiteral("COMMIT")); !e.ok()) {
        qCWarning(lcStore, "commit failed: %s", qUtf8Printable(e.toString()));
        if (db.inTransaction())
            db.exec(QStringLiteral("ROLLBACK"));
        task.finish(WriteStatus::Failed, e, {});
        return;
    }
    task.finish(WriteStatus::Committed, {}, {});
}

} // namespace prepay::store
