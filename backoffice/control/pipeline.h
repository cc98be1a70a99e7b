// What happens to a batch of readings after the recorder inserted them, in the SAME transaction
// (DESIGN.md §2.1): the biller charges the intervals, the controller re-evaluates the points
// whose balance moved or whose meter was just read (policy, relay repair, balance alarms),
// the meter alarms follow the poller's twin, and meters that hold their own balance are
// reconciled against the ledger (reconcile.h). The commands the controller queued are handed to
// the buses only after the batch committed; if it did not, they never existed.
//
// The one place prepayd's readings path is wired; prepayd installs it on the poller's recorder.
#pragma once

#include <QtCore/QList>

#include <functional>
#include <mutex>

namespace prepay {
class Clock;
}
namespace prepay::billing {
class Biller;
}
namespace prepay::poller {
class Recorder;
}

namespace prepay::control {

class BatchPipeline
{
public:
    // `dispatch` receives the ids of commands queued by a committed batch (Poller::dispatchCommands).
    BatchPipeline(billing::Biller &biller, const Clock &clock, std::function<void(const QList<qint64> &)> dispatch);

    void install(poller::Recorder &recorder);

private:
    billing::Biller &m_biller;
    const Clock &m_clock;
    std::function<void(const QList<qint64> &)> m_dispatch;
    std::mutex m_mutex;
    QList<qint64> m_queued; // by the batch in flight (batches run one at a time)
};

} // namespace prepay::control
