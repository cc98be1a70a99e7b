// Runs a write job on the store's writer and its completion on an event loop: the one way a Qt
// component (the API's handlers, the payment service) waits for a commit without blocking its
// thread. A pool thread waits on the writer's future, then queues `done(Written<R>)` to `loop`'s
// thread; when `loop` is gone by then, `done` is dropped (the write itself still happened).
#pragma once

#include "store/store.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QThreadPool>

#include <memory>
#include <type_traits>

namespace prepay::store {

template<typename Job, typename Done>
void writeThen(Store &store, QThreadPool &waiters, QObject *loop, Job &&job, Done &&done)
{
    using Future = decltype(store.write(std::forward<Job>(job)));
    auto future = std::make_shared<Future>(store.write(std::forward<Job>(job)));
    auto callback = std::make_shared<std::decay_t<Done>>(std::forward<Done>(done));
    QPointer<QObject> target = loop;
    waiters.start([future, callback, target] {
        auto written = std::make_shared<decltype(future->get())>(future->get());
        if (target)
            QMetaObject::invokeMethod(target, [callback, written] { (*callback)(*written); }, Qt::QueuedConnection);
    });
}

} // namespace prepay::store
