// The provider sandbox's control API (/sandbox/...: pay, scan, faults, orders — the "phone" and
// the fault switch) from a Qt Test, through the merchant-side transport. Tests only.
#pragma once

#include "payments/provider.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QTest>

#include <optional>

namespace prepay::test {

// The answer's JSON object with its HTTP status as "_status" ({"error": "no answer"} after 10 s).
inline QJsonObject sandboxControl(payments::Transport &transport, const QString &sandboxBase, const QByteArray &method,
    const QString &path, const QJsonObject &body = {})
{
    payments::HttpCall call;
    call.method = method;
    call.url = QUrl(sandboxBase + path);
    call.headers = {{"Content-Type", "application/json"}};
    if (method == "POST")
        call.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    std::optional<payments::HttpReply> reply;
    transport.send(call, [&reply](const payments::HttpReply &r) { reply = r; });
    if (!QTest::qWaitFor([&] { return reply.has_value(); }, 10000))
        return {{QStringLiteral("error"), QStringLiteral("no answer")}};
    QJsonObject answer = QJsonDocument::fromJson(reply->body).object();
    answer.insert(QStringLiteral("_status"), reply->status);
    return answer;
}

} // namespace prepay::test
