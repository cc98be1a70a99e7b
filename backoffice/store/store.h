// The store: one SQLite file per building, and the only way anything in prepayd writes to it.
//
// What it owns: the one read-write connection and the writer thread that uses it. Every write
// is a job submitted with write(); jobs run one at a time, in submission order, each inside
// its own BEGIN IMMEDIATE … COMMIT, so a caller never sees SQLITE_BUSY and one business event
// is one transaction (DESIGN.md §1, RELIABILITY.md §2). Readers open their own read-only
// connections with openReader(), one per thread; WAL lets them read while the writer writes.
//
// What it does not own: the SQL of the business (ledger, billing, … write their own
// statements inside their jobs) and the schema (sql/, applied by migrate() at open).
//
// The file runs in WAL mode with synchronous=FULL (a commit is on disk when write() reports
// it), foreign keys on and SQLite's defensive flag set.
#pragma once

#include "migrations.h"
#include "sqlite.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <variant>

namespace prepay {
class Clock;
}

namespace prepay::store {

// Handed to a write job: the writer's connection, inside an open transaction. The job either
// returns normally (the transaction commits) or calls rollback()/fail() first.
class Transaction
{
public:
    explicit Transaction(Connection &db)
        : m_db(db)
    { }

    Connection &db() { return m_db; }
    Statement prepare(const QString &sql) { return m_db.prepare(sql); }

    // A business rule said no: nothing of this job is kept; the caller gets RolledBack.
    void rollback(const QString &reason);
    // A statement failed: nothing of this job is kept; the caller gets Failed with `error`.
    void fail(const SqlError &error);

    bool rollbackRequested() const { return m_rollback; }
    const SqlError &error() const { return m_error; }
    const QString &reason() const { return m_reason; }

private:
    Connection &m_db;
    bool m_rollback = false;
    SqlError m_error;
    QString m_reason;
};

enum class WriteStatus {
    Committed,  // on disk
    RolledBack, // the job asked for it (reason says why)
    Failed,     // SQLite refused (error says why); nothing kept
    Stopped,    // submitted after the store began shutting down; never ran
};

QString writeStatusCode(WriteStatus status);

template<typename R>
struct Written
{
    WriteStatus status = WriteStatus::Stopped;
    R value{};      // what the job returned (also when it rolled back)
    SqlError error; // for Failed
    QString reason; // for RolledBack

    bool committed() const { return status == WriteStatus::Committed; }
};

enum class OpenOutcome {
    Opened,
    CannotOpen,      // missing directory, permissions, not a database
    CannotConfigure, // WAL or synchronous could not be set
    NewerThanCode,   // written by a newer prepay: refused, untouched
    BackupFailed,    // could not copy the file before migrating: untouched
    MigrationFailed, // a migration failed: original content restored (see message)
};

QString openOutcomeCode(OpenOutcome outcome);
// The process exit code for each outcome (sysexits.h values), so scripts can tell them apart.
int exitCodeFor(OpenOutcome outcome);

struct StoreOptions
{
    int busyTimeoutMs = 5000;
    // The migrations to bring the file up to; the built-in sql/ files unless a test says
    // otherwise.
    QList<Migration> migrations = builtInMigrations();
};

class Store;

struct OpenResult
{
    std::unique_ptr<Store> store; // set when outcome == Opened
    OpenOutcome outcome = OpenOutcome::CannotOpen;
    MigrationReport migration;
    QString message;
};

class Store
{
public:
    // Opens or creates the file, configures it, migrates it to the newest schema, and starts
    // the writer thread. The clock stamps the pre-migration copy.
    static OpenResult open(const QString &path, const Clock &clock, const StoreOptions &options = {});

    // Finishes every job already submitted, then stops the writer.
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    const QString &path() const { return m_path; }
    int schemaVersion() const { return m_schemaVersion; }

    // Submits a job `R job(Transaction&)` (or void); the future reports how it ended. Jobs run
    // in submission order. Never wait on the future from inside a job: it would wait forever.
    template<typename Job>
    auto write(Job &&job);

    // A new read-only connection for the calling thread (keep it on that thread).
    std::unique_ptr<Connection> openReader(SqlError *error = nullptr) const;

    // Stops accepting jobs, finishes the queued ones and joins the writer. Idempotent.
    void stop();

private:
    class Task
    {
    public:
        virtual ~Task() = default;
        virtual void run(Transaction &tx) = 0;
        virtual void finish(WriteStatus status, const SqlError &error, const QString &reason) = 0;
    };

    template<typename R, typename Job>
    class TypedTask final : public Task
    {
    public:
        explicit TypedTask(Job &&job)
            : m_job(std::forward<Job>(job))
        { }
        std::future<Written<R>> future() { return m_promise.get_future(); }
        void run(Transaction &tx) override
        {
            if constexpr (std::is_void_v<std::invoke_result_t<Job &, Transaction &>>)
                m_job(tx);
            else
                m_value = m_job(tx);
        }
        void finish(WriteStatus status, const SqlError &error, const QString &reason) override
        {
            m_promise.set_value(Written<R>{status, std::move(m_value), error, reason});
        }

    private:
        std::decay_t<Job> m_job;
        R m_value{};
        std::promise<Written<R>> m_promise;
    };

    Store(QString path, std::unique_ptr<Connection> writer, int schemaVersion, int busyTimeoutMs);
    void enqueue(std::unique_ptr<Task> task);
    void writerLoop();
    void runOne(Task &task);

    const QString m_path;
    std::unique_ptr<Connection> m_writer;
    const int m_schemaVersion;
    const int m_busyTimeoutMs;

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::unique_ptr<Task>> m_queue;
    bool m_stopping = false;
    std::thread m_thread;
};

template<typename Job>
auto Store::write(Job &&job)
{
    using Raw = std::invoke_result_t<Job &, Transaction &>;
    using R = std::conditional_t<std::is_void_v<Raw>, std::monostate, Raw>;
    auto task = std::make_unique<TypedTask<R, Job>>(std::forward<Job>(job));
    std::future<Written<R>> future = task->future();
    enqueue(std::move(task));
    return future;
}

} // namespace prepay::store
