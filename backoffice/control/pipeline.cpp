#include "pipeline.h"

#include "alarms.h"
#include "controller.h"
#include "reconcile.h"

#include "api/clock.h"
#include "billing/biller.h"
#include "poller/recorder.h"
#include "store/store.h"

namespace prepay::control {

BatchPipeline::BatchPipeline(
    billing::Biller &biller, const Clock &clock, std::function<void(const QList<qint64> &)> dispatch)
    : m_biller(biller)
    , m_clock(clock)
    , m_dispatch(std::move(dispatch))
{ }

void BatchPipeline::install(poller::Recorder &recorder)
{
    recorder.setBatchHook([this](store::Transaction &tx, const QList<poller::StoredReading> &readings) {
        {
            std::lock_guard lock(m_mutex);
            m_queued.clear();
        }
        const qint64 now = m_clock.wallMs();
        const billing::BillingOutcome billed = m_biller.billBatch(tx, readings, now);
        if (tx.rollbackRequested() || !tx.error().ok())
            return;
        QSet<qint64> points = Controller::pointsOfAccounts(tx, billed.accounts);
        for (const poller::StoredReading &r : readings)
            points.insert(r.meteringPointId);
        const QList<qint64> queued = Controller::evaluate(tx, *m_biller.book(), points, now);
        syncMeterAlarms(tx, now);
        reconcileBatch(tx, readings, now); // meter-side prepaid: balance and purchases against the ledger
        std::lock_guard lock(m_mutex);
        m_queued = queued;
    });
    recorder.setAfterBatch([this](bool committed) {
        QList<qint64> queued;
        {
            std::lock_guard lock(m_mutex);
            queued.swap(m_queued);
        }
        if (committed && !queued.isEmpty() && m_dispatch)
            m_dispatch(queued);
    });
}

} // namespace prepay::control
