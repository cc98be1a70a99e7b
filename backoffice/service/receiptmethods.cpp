// receipt.get and receipt.verify (issue 9): what a receipt says, for the kiosk that prints it
// after a top-up or reprints it from History and for staff who print counter-sale receipts and
// refund slips (prepayctl receipt render|print --receipt); and whether a receipt's QR is genuine.
// The facts and the rule of who sees which receipt are backoffice/receipts' (receiptfacts.h);
// here they meet the principal. Reads on the event loop's read-only connection — except the
// first receipt a site ever asks for: its secret (verification.h) is made once, on the writer,
// and the read repeated.
#include "api/clock.h"
#include "receipts/receiptfacts.h"
#include "receipts/verification.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"

namespace prepay::service {

namespace {

receipts::Viewer viewerOf(const Call &call)
{
    receipts::Viewer viewer;
    viewer.kiosk = call.principal == rpc::Principal::Kiosk;
    if (call.client) {
        if (viewer.kiosk)
            viewer.kioskBuildingId = call.client->kioskBuildingId;
        else if (call.client->staff)
            viewer.operatorId = call.client->staff->operatorId;
    }
    return viewer;
}

// Answers a read that found its receipt (with its verification) or refused.
void answer(const CallPtr &call, const receipts::FactsResult &read)
{
    using O = receipts::FactsOutcome;
    switch (read.outcome) {
    case O::Found: call->reply(receipts::factsJson(read.facts)); return;
    case O::NotFound:
        call->fail(rpc::ErrorCode::NotFound, read.message,
            QJsonObject{{QStringLiteral("field"), QStringLiteral("params.receipt_no")}});
        return;
    case O::NotIssued: call->fail(rpc::ErrorCode::Conflict, read.message); return;
    case O::TooOld: call->fail(rpc::ErrorCode::Forbidden, read.message); return;
    case O::StoreFailed: failInternal(call, read.message); return;
    }
}

void get(ServiceContext &context, const CallPtr &call)
{
    const QString receiptNo = call->params().value(QLatin1String("receipt_no")).toString();
    const receipts::Viewer viewer = viewerOf(*call);
    const receipts::FactsResult read
        = receipts::readReceiptFacts(context.reader, receiptNo, viewer, context.clock.wallMs());
    if (read.outcome != receipts::FactsOutcome::Found || !read.secretMissing) {
        answer(call, read);
        return;
    }
    // The site's first receipt: make its secret (once: the writer serialises the jobs and
    // ensureSecret() inserts only when there is none), then read the receipt again with it.
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [nowMs](store::Transaction &tx) {
            QString error;
            if (!receipts::ensureSecret(tx, nowMs, &error))
                tx.rollback(error);
            return error;
        },
        [&context, call, receiptNo, viewer](const store::Written<QString> &written) {
            if (!written.committed()) {
                failInternal(call,
                    QStringLiteral("making the receipt secret: %1")
                        .arg(written.value.isEmpty() ? written.error.toString() : written.value));
                return;
            }
            answer(call, receipts::readReceiptFacts(context.reader, receiptNo, viewer, context.clock.wallMs()));
        });
}

void verify(ServiceContext &context, const CallPtr &call)
{
    const QString text = call->params().value(QLatin1String("verification")).toString();
    const receipts::VerifyResult r
        = receipts::verifyReceipt(context.reader, text, viewerOf(*call), context.clock.wallMs());
    using O = receipts::VerifyOutcome;
    switch (r.outcome) {
    case O::StoreFailed: failInternal(call, r.message); return;
    case O::Valid: {
        QJsonObject reply = receipts::factsJson(r.facts);
        reply.insert(QStringLiteral("valid"), true);
        reply.insert(QStringLiteral("message"), r.message);
        call->reply(reply);
        return;
    }
    case O::AmountMismatch:
    case O::TimeMismatch:
        // Genuine but not what the database says: show staff what it says.
        call->reply(QJsonObject{{QStringLiteral("valid"), false},
            {QStringLiteral("reason"), receipts::verifyOutcomeCode(r.outcome)}, {QStringLiteral("message"), r.message},
            {QStringLiteral("receipt"), receipts::factsJson(r.facts)}});
        return;
    case O::Malformed:
    case O::BadMac:
    case O::UnknownReceipt:
        call->reply(QJsonObject{{QStringLiteral("valid"), false},
            {QStringLiteral("reason"), receipts::verifyOutcomeCode(r.outcome)},
            {QStringLiteral("message"), r.message}});
        return;
    }
}

} // namespace

void bindReceiptMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("receipt.get"), [&context](const CallPtr &call) { get(context, call); });
    dispatcher.bind(QStringLiteral("receipt.verify"), [&context](const CallPtr &call) { verify(context, call); });
}

} // namespace prepay::service
