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

namespace prepay::service {

namespace {

constexpr int pagesPerPushMax = 20; // a connection far behind catches up over a few ticks

void snapshot(ServiceContext &context, const CallPtr &call)
{
    QString error;
    const std::optional<sync::DirectorySnapshot> snap = sync::snapshot(context.reader, &error);
    if (!snap) {
        failInternal(call, error);
        return;
    }
    call->reply(sync::snapshotToJson(*snap));
}

void subscribe(ServiceContext &context, const CallPtr &call)
{
    const qint64 since = call->params().value(QLatin1String("since_seq")).toInteger();
    QString error;
    const std::optional<sync::DirectoryBatch> batch =
        sync::eventsSince(context.reader, since, sync::SyncLimits::eventsPerBatchMax, &error);
    if (!batch) {
        failInternal(call, error);
        return;
    }
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
        for (int page = 0; page < pagesPerPushMax && client->feedCursor; ++page) {
            QString error;
            const std::optional<sync::DirectoryBatch> batch = sync::eventsSince(
                context.reader, *client->feedCursor, sync::SyncLimits::eventsPerBatchMax, &error);
            if (!batch) {
                qCWarning(lcService, "c%llu: directory feed: %s", client->id(), qUtf8Printable(error));
                break;
            }
            if (!batch->resyncNeeded && batch->events.isEmpty())
                break; // nothing new for this one
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
