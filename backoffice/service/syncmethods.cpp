// sync.snapshot and events.subscribe: the kiosk directory feed of backoffice/sync on the wire.
// A client takes a snapshot (rows + the seq they match), subscribes from that seq, and from then
// on receives every change as an events.directory notification carrying a batch with from_seq
// and to_seq; its Replica (sync/replica.h) applies a batch only if from_seq matches what it
// holds, so a lost or repeated batch is noticed, and it resubscribes from its last seq.
#include "api/jsonrpc.h"
#include "service/apiserver.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/servicelog.h"
#include "service/writes.h"
#include "sync/publisher.h"

#include <QtCore/QSet>

namespace prepay::service {

namespace {

constexpr int pagesPerPushMax = 20; // a connection far behind catches up over a few ticks

// A kiosk of one building reads that building's tenants only: the accounts with a metering
// point there (now or in the past: a removal of such an account still reaches it).
std::optional<QSet<qint64>> visibleAccounts(ServiceContext &context, const Client &client)
{
    if (!client.kioskBuildingId || client.staff)
        return std::nullopt;
    store::Statement s = context.reader.prepare(QStringLiteral(
        "SELECT DISTINCT ap.account_id FROM account_metering_points ap "
        "JOIN metering_points mp ON mp.id = ap.metering_point_id WHERE mp.building_id = ?1"));
    s.bind(1, *client.kioskBuildingId);
    QSet<qint64> accounts;
    while (s.step() == store::Statement::Step::Row)
        accounts.insert(s.int64(0));
    return accounts;
}

void restrict(sync::DirectorySnapshot &snapshot, const std::optional<QSet<qint64>> &visible)
{
    if (!visible)
        return;
    snapshot.rows.removeIf([&visible](const sync::DirectoryRow &row) { return !visible->contains(row.accountId); });
}

// The batch keeps its from_seq/to_seq (the client's cursor moves over what it may not see).
void restrict(sync::DirectoryBatch &batch, const std::optional<QSet<qint64>> &visible)
{
    if (!visible)
        return;
    batch.events.removeIf([&visible](const sync::DirectoryEvent &event) { return !visible->contains(event.accountId); });
}

void snapshot(ServiceContext &context, const CallPtr &call)
{
    QString error;
    std::optional<sync::DirectorySnapshot> snap = sync::snapshot(context.reader, &error);
    if (!snap) {
        failInternal(call, error);
        return;
    }
    restrict(*snap, visibleAccounts(context, *call->client));
    call->reply(sync::snapshotToJson(*snap));
}

void subscribe(ServiceContext &context, const CallPtr &call)
{
    const qint64 since = call->params().value(QLatin1String("since_seq")).toInteger();
    QString error;
    std::optional<sync::DirectoryBatch> batch =
        sync::eventsSince(context.reader, since, sync::SyncLimits::eventsPerBatchMax, &error);
    if (!batch) {
        failInternal(call, error);
        return;
    }
    restrict(*batch, visibleAccounts(context, *call->client));
    // A resync answer subscribes nobody: the client takes a snapshot and subscribes from its seq.
    if (batch->resyncNeeded)
        call->client->feedCursor.reset();
    else
        call->client->feedCursor = batch->toSeq;
    call->reply(sync::batchToJson(*batch));
}

} // namespace

void bindSyncMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("sync.snapshot"), [&context](const CallPtr &call) { snapshot(context, call); });
    dispatcher.bind(QStringLiteral("events.subscribe"), [&context](const CallPtr &call) { subscribe(context, call); });
}

void pushDirectoryEvents(ServiceContext &context)
{
    if (!context.server)
        return;
    for (Client *client : context.server->clients()) {
        std::optional<QSet<qint64>> visible;
        bool visibleRead = false;
        for (int page = 0; page < pagesPerPushMax && client->feedCursor; ++page) {
            QString error;
            std::optional<sync::DirectoryBatch> batch = sync::eventsSince(
                context.reader, *client->feedCursor, sync::SyncLimits::eventsPerBatchMax, &error);
            if (!batch) {
                qCWarning(lcService, "c%llu: directory feed: %s", client->id(), qUtf8Printable(error));
                break;
            }
            if (!batch->resyncNeeded && batch->toSeq <= *client->feedCursor)
                break; // nothing new for this one
            if (!visibleRead) {
                visible = visibleAccounts(context, *client);
                visibleRead = true;
            }
            restrict(*batch, visible);
            client->send(rpc::encodeNotification(QStringLiteral("events.directory"), sync::batchToJson(*batch)));
            if (batch->resyncNeeded) {
                client->feedCursor.reset(); // it must take a snapshot first
                break;
            }
            client->feedCursor = batch->toSeq;
            if (!batch->more)
                break;
        }
    }
}

} // namespace prepay::service
