// import.csv and export.csv: the building's devices in and lists out, as CSV (docs/import.md).
// The rules live in backoffice/catalog; here they meet the wire. An import is one write job:
// catalog::importCsv() checks every row and writes all or nothing, and the audit row — the
// kind, the counts and the SHA-256 of the text, never the text itself — goes into the same
// transaction. A refused file answers invalid_params with every bad row in data.rows. A dry
// run is the same job rolled back, so it checks exactly what a real import would.
//
// prepayd reads its poll plan at start: imported meters (and gateways) are polled after the
// next restart, and the reply says so. The import refuses a file that would keep prepayd from
// loading that plan.
#include "api/clock.h"
#include "audit/audit.h"
#include "catalog/exporter.h"
#include "catalog/importer.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonArray>

namespace prepay::service {

namespace {

QJsonObject importResult(const catalog::ImportReport &report)
{
    QJsonObject result{{QStringLiteral("kind"), catalog::importKindName(report.kind)},
        {QStringLiteral("dry_run"), report.dryRun}, {QStringLiteral("rows"), qint64(report.rows)},
        {QStringLiteral("imported"), report.dryRun ? qint64(0) : qint64(report.rows)},
        {QStringLiteral("counts"), report.counts.toJson()}};
    QString message = report.dryRun
        ? QStringLiteral("%1 rows are valid; nothing was imported (dry run)").arg(report.rows)
        : QStringLiteral("%1 %2 imported").arg(report.rows).arg(catalog::importKindName(report.kind));
    if (report.kind != catalog::ImportKind::Buildings)
        message += QStringLiteral(". prepayd reads its poll plan at start: restart it to poll the new meters");
    result.insert(QStringLiteral("message"), message);
    return result;
}

void refuseImport(const CallPtr &call, const catalog::ImportReport &report)
{
    QJsonArray rows;
    for (const catalog::CsvProblem &p : report.problems)
        rows.append(QJsonObject{{QStringLiteral("line"), p.line}, {QStringLiteral("column"), p.column},
            {QStringLiteral("message"), p.message}});
    QJsonObject data{{QStringLiteral("rows"), rows}};
    const qsizetype total = report.problems.size() + report.problemsOmitted;
    if (report.problemsOmitted > 0)
        data.insert(QStringLiteral("omitted"), qint64(report.problemsOmitted));
    call->fail(rpc::ErrorCode::InvalidParams,
        QStringLiteral("%1 %2 in the CSV; nothing was imported")
            .arg(total)
            .arg(total == 1 ? QStringLiteral("problem") : QStringLiteral("problems")),
        data);
}

void importCsv(ServiceContext &context, const CallPtr &call)
{
    const QString kindName = call->params().value(QLatin1String("kind")).toString();
    const std::optional<catalog::ImportKind> kind = catalog::importKindFromName(kindName);
    if (!kind) { // the schema admits only the three names; a new one without rules is a bug
        failInternal(call, QStringLiteral("no import rules for kind '%1'").arg(kindName));
        return;
    }
    const QString csv = call->params().value(QLatin1String("csv")).toString();
    const bool dryRun = call->params().value(QLatin1String("dry_run")).toBool(false);
    std::optional<qint64> operatorId;
    if (call->client && call->client->staff)
        operatorId = call->client->staff->operatorId;
    audit::Entry entry = auditEntry(context, *call, QStringLiteral("import.csv"), QStringLiteral("import"), kindName);
    const QString sha256
        = QString::fromLatin1(QCryptographicHash::hash(csv.toUtf8(), QCryptographicHash::Sha256).toHex());
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [kind, csv, dryRun, nowMs, operatorId, entry, sha256](store::Transaction &tx) mutable {
            catalog::ImportReport report = catalog::importCsv(tx, *kind, csv, dryRun, nowMs, operatorId);
            if (report.written) {
                entry.afterJson = compact(QJsonObject{{QStringLiteral("kind"), catalog::importKindName(*kind)},
                    {QStringLiteral("rows"), qint64(report.rows)}, {QStringLiteral("counts"), report.counts.toJson()},
                    {QStringLiteral("csv_sha256"), sha256}});
                audit::append(tx, entry);
            }
            return report;
        },
        [call](const store::Written<catalog::ImportReport> &written) {
            const catalog::ImportReport &report = written.value;
            switch (written.status) {
            case store::WriteStatus::Committed: call->reply(importResult(report)); return;
            case store::WriteStatus::RolledBack:
                if (!report.ok())
                    refuseImport(call, report);
                else if (report.dryRun)
                    call->reply(importResult(report));
                else
                    failInternal(call, QStringLiteral("import rolled back: ") + written.reason);
                return;
            case store::WriteStatus::Failed: failInternal(call, written.error.toString()); return;
            case store::WriteStatus::Stopped:
                call->fail(rpc::ErrorCode::Unavailable, QStringLiteral("prepayd is stopping; nothing was changed"));
                return;
            }
        });
}

void exportCsv(ServiceContext &context, const CallPtr &call)
{
    const QString whatName = call->params().value(QLatin1String("what")).toString();
    const std::optional<catalog::ExportWhat> what = catalog::exportWhatFromName(whatName);
    if (!what) {
        failInternal(call, QStringLiteral("no export of '%1'").arg(whatName));
        return;
    }
    std::optional<qint64> fromMs;
    std::optional<qint64> toMs;
    if (call->params().contains(QLatin1String("from_ms")))
        fromMs = call->params().value(QLatin1String("from_ms")).toInteger();
    if (call->params().contains(QLatin1String("to_ms")))
        toMs = call->params().value(QLatin1String("to_ms")).toInteger();
    if (*what != catalog::ExportWhat::Ledger && (fromMs || toMs)) {
        call->fail(rpc::ErrorCode::InvalidParams,
            QStringLiteral("params.from_ms and params.to_ms apply to the ledger only"),
            QJsonObject{
                {QStringLiteral("field"), fromMs ? QStringLiteral("params.from_ms") : QStringLiteral("params.to_ms")}});
        return;
    }
    if (fromMs && toMs && *fromMs >= *toMs) {
        call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("params.to_ms must be after params.from_ms"),
            QJsonObject{{QStringLiteral("field"), QStringLiteral("params.to_ms")}});
        return;
    }
    const catalog::ExportResult result = catalog::exportCsv(context.reader, *what, fromMs, toMs);
    switch (result.outcome) {
    case catalog::ExportResult::Outcome::Done:
        call->reply(QJsonObject{{QStringLiteral("what"), whatName}, {QStringLiteral("csv"), result.csv},
            {QStringLiteral("rows"), qint64(result.rows)}});
        return;
    case catalog::ExportResult::Outcome::TooManyRows:
        call->fail(rpc::ErrorCode::InvalidParams, result.message,
            QJsonObject{{QStringLiteral("field"), QStringLiteral("params.from_ms")}});
        return;
    case catalog::ExportResult::Outcome::StoreFailed: failInternal(call, result.message); return;
    }
}

} // namespace

void bindImportMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("import.csv"), [&context](const CallPtr &call) { importCsv(context, call); });
    dispatcher.bind(QStringLiteral("export.csv"), [&context](const CallPtr &call) { exportCsv(context, call); });
}

} // namespace prepay::service
