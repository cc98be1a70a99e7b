#include "backupcommands.h"

#include "filechecks.h"
#include "readonlydb.h"

#include "api/clock.h"
#include "store/migrations.h"
#include "store/sqlite.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRandomGenerator>

#include <fcntl.h>
#include <unistd.h>

namespace prepay::ctl {

namespace {

// How long restore waits for the write lock before it concludes that prepayd holds the file.
constexpr int kInUseBusyTimeoutMs = 250;

constexpr int exitVerifyFailed = 1;
constexpr int exitContentsViolated = 2;
constexpr int exitNewerSchema = 65; // EX_DATAERR
constexpr int exitNoInput = 66;     // EX_NOINPUT
constexpr int exitCannotCreate = 73; // EX_CANTCREAT
constexpr int exitIoError = 74;     // EX_IOERR
constexpr int exitInUse = 75;       // EX_TEMPFAIL

const QCommandLineOption dbReadOption(QStringLiteral("db"),
    QStringLiteral("The database file (read only; prepayd may be running)."), QStringLiteral("FILE"));
const QCommandLineOption dbRestoreOption(QStringLiteral("db"),
    QStringLiteral("The database file to replace (prepayd stopped)."), QStringLiteral("FILE"));
const QCommandLineOption outOption(QStringLiteral("out"),
    QStringLiteral("Where to write the backup: a new file (never overwritten)."), QStringLiteral("FILE"));
const QCommandLineOption fromOption(QStringLiteral("from"), QStringLiteral("The backup to restore."), QStringLiteral("BACKUP"));
const QCommandLineOption forceOption(QStringLiteral("force"),
    QStringLiteral("Restore even if the backup's ledger or audit chain does not verify (never a damaged file, "
                   "a newer schema, or a database in use)."));
const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text."));

// A file being written next to its final name, removed (with SQLite's -journal) unless it was
// renamed into place.
class PartialFile
{
public:
    PartialFile(const QString &directory, const QString &finalName)
        : m_path(QDir(directory).filePath(QStringLiteral(".%1.%2.partial")
                                              .arg(finalName)
                                              .arg(QRandomGenerator::system()->generate64(), 16, 16, QLatin1Char('0'))))
    { }
    ~PartialFile()
    {
        if (m_keep)
            return;
        QFile::remove(m_path);
        QFile::remove(m_path + QStringLiteral("-journal"));
    }
    PartialFile(const PartialFile &) = delete;
    PartialFile &operator=(const PartialFile &) = delete;

    const QString &path() const { return m_path; }
    // Moves the file to `target`, which must not exist (QFile::rename never replaces a file).
    bool renameTo(const QString &target)
    {
        m_keep = QFile::rename(m_path, target);
        return m_keep;
    }

private:
    QString m_path;
    bool m_keep = false;
};

// A rename is durable once the directory that holds the names is synced.
bool syncDirectory(const QString &directory)
{
    const int fd = ::open(QFile::encodeName(directory).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

bool syncFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadWrite) && ::fsync(f.handle()) == 0;
}

qint64 codeVersion()
{
    return store::builtInMigrations().size();
}

void printChecks(const Invocation &in, const QList<FileCheck> &checks, const QString &prefix = {})
{
    for (const FileCheck &c : checks)
        in.out << prefix << c.line() << '\n';
    in.out.flush();
}

// ---- prepayctl verify ---------------------------------------------------------------------

int verifyFile(const Invocation &in)
{
    int rc = 0;
    const std::unique_ptr<store::Connection> db = openReadOnlyDatabase(in, dbReadOption, &rc);
    if (!db)
        return rc;
    const QList<FileCheck> checks = checkDatabase(*db, codeVersion());
    const bool ok = allOk(checks);
    if (in.parser.isSet(jsonOption)) {
        QJsonArray list;
        for (const FileCheck &c : checks)
            list.append(c.toJson());
        in.out << QJsonDocument(QJsonObject{{QStringLiteral("ok"), ok}, {QStringLiteral("checks"), list}})
                      .toJson(QJsonDocument::Compact)
               << '\n';
    } else {
        printChecks(in, checks);
    }
    return ok ? 0 : exitVerifyFailed;
}

// ---- prepayctl backup ---------------------------------------------------------------------

int backup(const Invocation &in)
{
    const QString out = in.parser.value(outOption);
    if (out.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--out FILE is required"));
    int rc = 0;
    std::unique_ptr<store::Connection> source = openReadOnlyDatabase(in, dbReadOption, &rc);
    if (!source)
        return rc;
    const QFileInfo outInfo(out);
    if (outInfo.exists() || outInfo.isSymLink())
        return in.fail(exitCannotCreate, QStringLiteral("%1 exists; backup never overwrites a file").arg(out));
    if (!outInfo.dir().exists())
        return in.fail(exitCannotCreate, QStringLiteral("directory %1 does not exist").arg(outInfo.absolutePath()));

    PartialFile partial(outInfo.absolutePath(), outInfo.fileName());
    if (const store::SqlError e = source->backupTo(partial.path()); !e.ok())
        return in.fail(exitIoError, QStringLiteral("the backup failed: %1").arg(e.toString()));
    source.reset();

    // The copy is checked as the file it is, through a connection of its own.
    store::SqlError error;
    const std::unique_ptr<store::Connection> copy
        = store::Connection::open(partial.path(), store::Connection::Mode::ReadOnly, 5000, &error);
    if (!copy)
        return in.fail(exitIoError, QStringLiteral("cannot reopen the copy: %1").arg(error.toString()));
    const qint64 version = copy->queryInt(QStringLiteral("PRAGMA user_version"), &error);
    const QList<FileCheck> checks = checkDatabase(*copy, version);
    printChecks(in, checks, QStringLiteral("copy "));
    if (!allOk(checks, FileCheck::Kind::Storage))
        return in.fail(exitVerifyFailed, QStringLiteral("the copy is damaged; nothing written at %1").arg(out));
    // A ledger or audit violation is in the database itself, not made by copying it: the backup
    // is kept (it may be the best copy there is), and the exit code says so.
    const bool contentsOk = allOk(checks, FileCheck::Kind::Contents);

    if (!partial.renameTo(out))
        return in.fail(exitCannotCreate, QStringLiteral("cannot rename the copy to %1 (did it appear meanwhile?)").arg(out));
    if (!syncDirectory(outInfo.absolutePath()))
        in.err << "prepayctl: warning: could not sync directory " << outInfo.absolutePath() << '\n';
    in.out << "backup written: " << QFileInfo(out).absoluteFilePath() << " (" << QFileInfo(out).size()
           << " bytes, schema v" << version << (contentsOk ? ", verified)\n" : ")\n");
    if (!contentsOk) {
        return in.fail(exitContentsViolated,
            QStringLiteral("the ledger or the audit chain does not verify, in the copy as in the database (prepayctl "
                           "verify --db %1)")
                .arg(in.parser.value(dbReadOption)));
    }
    return 0;
}

// ---- prepayctl restore --------------------------------------------------------------------

// Makes sure nothing has `path` open, then leaves it as one self-contained file: leaving WAL
// mode checkpoints the WAL into the file, and needs every other connection closed.
int takeCurrentFile(const Invocation &in, const QString &path)
{
    const QString running = QStringLiteral("%1 is in use — prepayd seems to be running (or a prepayctl is reading "
                                           "it); stop it, then restore. Nothing changed.")
                                .arg(path);
    store::SqlError error;
    std::unique_ptr<store::Connection> current
        = store::Connection::open(path, store::Connection::Mode::ReadWrite, kInUseBusyTimeoutMs, &error);
    if (!current) {
        if (error.isBusy())
            return in.fail(exitInUse, running);
        return in.fail(exitNoInput,
            QStringLiteral("%1 cannot be opened as a database (%2); move it aside yourself, then restore. Nothing "
                           "changed.")
                .arg(path, error.message));
    }
    if (const store::SqlError e = current->exec(QStringLiteral("BEGIN IMMEDIATE")); !e.ok()) {
        if (e.isBusy())
            return in.fail(exitInUse, running);
        return in.fail(exitNoInput, QStringLiteral("%1: %2. Nothing changed.").arg(path, e.toString()));
    }
    current->exec(QStringLiteral("ROLLBACK"));
    store::Statement journal = current->prepare(QStringLiteral("PRAGMA journal_mode = DELETE"));
    if (journal.step() != store::Statement::Step::Row || journal.text(0) != u"delete") {
        if (journal.error().ok() || journal.error().isBusy())
            return in.fail(exitInUse, running);
        return in.fail(exitNoInput, QStringLiteral("%1: %2. Nothing changed.").arg(path, journal.error().toString()));
    }
    return 0;
}

int restore(const Invocation &in, const Clock &clock)
{
    const QString path = in.parser.value(dbRestoreOption);
    const QString from = in.parser.value(fromOption);
    if (path.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--db FILE is required"));
    if (from.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--from BACKUP is required"));
    if (!QFileInfo(from).isFile())
        return in.fail(exitNoInput, QStringLiteral("%1 does not exist").arg(from));
    const QFileInfo target(path);
    if (!target.dir().exists())
        return in.fail(exitNoInput, QStringLiteral("directory %1 does not exist").arg(target.absolutePath()));

    // The backup is copied next to its destination first and the copy is what gets checked and
    // renamed into place: what was verified is exactly what is installed.
    PartialFile partial(target.absolutePath(), target.fileName());
    if (!QFile::copy(from, partial.path()) || !syncFile(partial.path()))
        return in.fail(exitCannotCreate, QStringLiteral("cannot copy %1 to %2").arg(from, target.absolutePath()));
    qint64 version = 0;
    {
        // A backup taken from a file in WAL mode carries that mode; the restored file starts as
        // one self-contained file, and prepayd puts it back in WAL mode when it opens it.
        store::SqlError error;
        const std::unique_ptr<store::Connection> copy
            = store::Connection::open(partial.path(), store::Connection::Mode::ReadWrite, 5000, &error);
        if (!copy) {
            return in.fail(exitVerifyFailed,
                QStringLiteral("%1 cannot be opened as a database (%2). Nothing changed.").arg(from, error.message));
        }
        store::Statement journal = copy->prepare(QStringLiteral("PRAGMA journal_mode = DELETE"));
        if (journal.step() != store::Statement::Step::Row)
            error = journal.error();
        journal.reset();
        if (error.ok())
            version = copy->queryInt(QStringLiteral("PRAGMA user_version"), &error);
        if (!error.ok())
            return in.fail(exitVerifyFailed, QStringLiteral("%1 cannot be read (%2). Nothing changed.").arg(from, error.toString()));
    }
    if (version > codeVersion()) {
        return in.fail(exitNewerSchema,
            QStringLiteral("%1 is at schema v%2, newer than this prepayctl (v%3): restore it with the prepayctl that "
                           "wrote it. Nothing changed.")
                .arg(from)
                .arg(version)
                .arg(codeVersion()));
    }
    if (version < 1)
        return in.fail(exitVerifyFailed, QStringLiteral("%1 is not a prepay database (schema v0). Nothing changed.").arg(from));

    {
        store::SqlError error;
        const std::unique_ptr<store::Connection> copy
            = store::Connection::open(partial.path(), store::Connection::Mode::ReadOnly, 5000, &error);
        if (!copy)
            return in.fail(exitVerifyFailed, QStringLiteral("%1: %2. Nothing changed.").arg(from, error.message));
        const QList<FileCheck> checks = checkDatabase(*copy, version);
        printChecks(in, checks, QStringLiteral("backup "));
        if (!allOk(checks, FileCheck::Kind::Storage))
            return in.fail(exitVerifyFailed, QStringLiteral("%1 is damaged. Nothing changed.").arg(from));
        if (!allOk(checks, FileCheck::Kind::Contents)) {
            if (!in.parser.isSet(forceOption)) {
                return in.fail(exitVerifyFailed,
                    QStringLiteral("the ledger or the audit chain of %1 does not verify. Nothing changed (--force "
                                   "restores it anyway).")
                        .arg(from));
            }
            in.err << "prepayctl: restoring a backup that does not verify, as --force says\n";
        }
    }

    QString kept;
    if (target.exists() || target.isSymLink()) {
        if (const int rc = takeCurrentFile(in, path); rc != 0)
            return rc;
        // The WAL was checkpointed into the file when it left WAL mode; what is left of -wal
        // and -shm is stale and would be applied to the restored file.
        QFile::remove(path + QStringLiteral("-wal"));
        QFile::remove(path + QStringLiteral("-shm"));
        kept = path + QStringLiteral(".before-restore-")
            + clock.wallNow().toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'"));
        if (!QFile::rename(path, kept)) {
            return in.fail(exitCannotCreate,
                QStringLiteral("cannot keep %1 as %2 (does it exist?). Nothing changed.").arg(path, kept));
        }
    }
    if (!partial.renameTo(path)) {
        if (!kept.isEmpty() && !QFile::rename(kept, path)) {
            return in.fail(exitCannotCreate,
                QStringLiteral("cannot move the backup to %1, nor put the old file back: it is %2").arg(path, kept));
        }
        return in.fail(exitCannotCreate, QStringLiteral("cannot move the backup to %1. Nothing changed.").arg(path));
    }
    if (!syncDirectory(target.absolutePath()))
        in.err << "prepayctl: warning: could not sync directory " << target.absolutePath() << '\n';

    in.out << "restored " << QFileInfo(path).absoluteFilePath() << " from " << from << " (schema v" << version << ")\n";
    if (!kept.isEmpty())
        in.out << "the database it replaces is kept as " << kept << '\n';
    if (version < codeVersion())
        in.out << "prepayd migrates it to v" << codeVersion() << " when it starts (taking a copy first)\n";
    return 0;
}

} // namespace

QList<Command> backupCommands(const Clock &clock)
{
    return {
        {{QStringLiteral("backup")},
            QStringLiteral("--db FILE --out FILE   consistent copy while prepayd runs, verified"),
            QStringLiteral("Copy the database with SQLite's online backup API (one consistent snapshot; prepayd may "
                           "be running and writing). The copy is written under a temporary name next to --out, "
                           "reopened read only and verified (integrity_check, foreign_key_check, ledger verify, "
                           "audit verify), and only then renamed to --out. Never overwrites a file.\n"
                           "Exit codes: 0 written and verified, 1 the copy is damaged (nothing written), 2 written, "
                           "but its ledger or audit chain does not verify (nor does the database's), "
                           "64 bad command line, 65 schema not this prepayctl's, 66 cannot open --db, 73 --out exists "
                           "or cannot be created, 74 the copy failed."),
            {dbReadOption, outOption}, {}, {}, backup},
        {{QStringLiteral("restore")},
            QStringLiteral("--db FILE --from BACKUP [--force]   put a verified backup in place (prepayd stopped)"),
            QStringLiteral("Replace the database with a backup. The backup is copied next to FILE and verified "
                           "first (integrity_check, foreign_key_check, ledger verify, audit verify); a damaged "
                           "backup or one with a schema newer than this prepayctl is refused, an older one is "
                           "accepted (prepayd migrates it on start). Refuses while anything has FILE open (stop "
                           "prepayd first). The current file is checkpointed and kept as "
                           "FILE.before-restore-<UTC time>, then the copy is renamed into place.\n"
                           "Exit codes: 0 restored, 1 the backup does not verify (nothing changed), 64 bad command "
                           "line, 65 the backup's schema is newer, 66 the backup is missing or FILE is not a "
                           "database, 73 cannot write next to FILE, 75 FILE is in use (prepayd running)."),
            {dbRestoreOption, fromOption, forceOption}, {}, {},
            [&clock](const Invocation &in) { return restore(in, clock); }},
        {{QStringLiteral("verify")},
            QStringLiteral("--db FILE [--json]   integrity, foreign keys, ledger and audit chain"),
            QStringLiteral("Check a database file: SQLite's integrity_check and foreign_key_check, every ledger "
                           "invariant (prepayctl ledger verify) and the audit chain (prepayctl audit verify); one "
                           "line each. Read only; prepayd may be running.\n"
                           "Exit codes: 0 every check passes, 1 a check fails, 65 schema not this prepayctl's, "
                           "66 cannot open."),
            {dbReadOption, jsonOption}, {}, {}, verifyFile},
    };
}

} // namespace prepay::ctl
