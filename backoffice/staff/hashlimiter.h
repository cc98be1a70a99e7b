// HashLimiter: where password hashes are computed, so that a flood of logins cannot take the
// machine (DESIGN: "a hash costs ≥ 50 ms; at most 2 hashes computed at once").
//
// One scrypt costs ~0.1 s of CPU and 32 MiB; run on the server's event-loop thread it would stall
// every other client, run one thread per request it would let 100 logins ask for 3 GiB at once.
// The limiter owns `maxConcurrent` worker threads (default 2) and a bounded queue: a job is
// admitted while fewer than maxConcurrent + queueMax jobs are running or waiting, and refused at
// once with Busy beyond that (the caller answers "busy, try again" without doing any work).
// Jobs start in submission order.
//
// Results come back on the thread of a `context` QObject, through a queued call
// (QMetaObject::invokeMethod(context, …, Qt::QueuedConnection)), so a Qt server's handler
// continues on its own thread. If the context is destroyed before the call is delivered, Qt drops
// the call. The context must outlive the limiter, or own it (then ~QObject runs after the
// limiter has joined its workers).
//
// What it does not own: what a verification means (auth.h decides, in the store's writer), nor the
// passwords' validity rules (operators.h).
#pragma once

#include "operators.h"

#include <QtCore/QString>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

class QObject;

namespace prepay::staff {

class HashLimiter
{
public:
    static constexpr int kMaxConcurrentDefault = 2;
    static constexpr int kQueueMaxDefault = 32;
    static constexpr int kMaxConcurrentLimit = 16;
    static constexpr int kQueueMaxLimit = 4096;

    struct Limits
    {
        int maxConcurrent = kMaxConcurrentDefault; // jobs computed at once (1..16)
        int queueMax = kQueueMaxDefault;           // jobs waiting beyond those (0..4096)
    };

    enum class Admission {
        Accepted, // queued; `done` will be called once, on the context's thread
        Busy,     // the queue is full: refused at once, `done` is never called
        Stopped,  // the limiter is shutting down: refused, `done` is never called
    };

    HashLimiter(); // the default Limits
    explicit HashLimiter(Limits limits);
    // stop(), then joins the workers.
    ~HashLimiter();
    HashLimiter(const HashLimiter &) = delete;
    HashLimiter &operator=(const HashLimiter &) = delete;

    // verifyPassword(password, stored) on a worker; done(matched) on the context's thread.
    Admission verify(
        const QString &password, const PasswordHash &stored, QObject *context, std::function<void(bool matched)> done);

    // hashPassword(password) on a worker (a new or changed password costs the same as a login);
    // done(hash or nullopt, error) on the context's thread.
    Admission hash(const QString &password, QObject *context,
        std::function<void(std::optional<PasswordHash> hash, QString error)> done);

    // Any CPU-bound job under the same limit: work() on a worker, then done() on the context's
    // thread. verify() and hash() are built on it; tests use it to watch the concurrency.
    Admission submit(std::function<void()> work, QObject *context, std::function<void()> done);

    // Refuses new jobs from now on and drops the waiting ones (their `done` is never called);
    // jobs already running finish and deliver. Idempotent; does not wait (the destructor does).
    void stop();

    const Limits &limits() const { return m_limits; }
    int running() const;
    int waiting() const;
    // The most jobs ever computed at once: never above limits().maxConcurrent.
    int peakRunning() const;

private:
    struct Job
    {
        std::function<void()> work;
        QObject *context = nullptr;
        std::function<void()> done;
    };

    void workerLoop();

    const Limits m_limits;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Job> m_waiting;
    int m_running = 0;
    int m_peakRunning = 0;
    bool m_stopping = false;
    std::vector<std::thread> m_workers;
};

QString admissionCode(HashLimiter::Admission admission); // accepted, busy, stopped

} // namespace prepay::staff
