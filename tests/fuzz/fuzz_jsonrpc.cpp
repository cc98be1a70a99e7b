// Fuzz target for the JSON-RPC contract layer: any bytes go through decode(); a decoded request
// is checked against a sample schema shaped like prepay's real ones, and every outcome is
// encoded as the server would. Beyond "no crash, no sanitizer report", the target checks the
// properties the server relies on, and aborts when one fails:
//  - decode() gives exactly one of a request or a numbered error;
//  - every reply it produces is JSON that decode's own rules would call well-formed;
//  - a request re-encoded as a notification decodes back to the same method and params.
// Built twice (CMakeLists.txt): with libFuzzer when clang can link it, and always as
// fuzz_jsonrpc_replay, which runs the seed corpus under ./dev test.
#include "api/check.h"
#include "api/jsonrpc.h"
#include "api/schema.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <climits>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

using namespace prepay::rpc;

const Schema &sampleSchema()
{
    static const Schema schema{
        integer(QStringLiteral("amount_fen"), 100, 500000),
        optional(str(QStringLiteral("note"), 0, 200)),
        optional(boolean(QStringLiteral("print"))),
        optional(enumeration(
            QStringLiteral("channel"), {QStringLiteral("cash"), QStringLiteral("wechat"), QStringLiteral("alipay")})),
        optional(matching(str(QStringLiteral("meter_id"), 1, 32), QStringLiteral("[A-Za-z0-9_-]+"))),
        optional(object(QStringLiteral("payer"),
            {str(QStringLiteral("name"), 1, 100), optional(integer(QStringLiteral("age"), 0, 150))})),
        optional(array(QStringLiteral("items"),
            object(
                QString(), {str(QStringLiteral("meter_id"), 1, 32), integer(QStringLiteral("amount_fen"), 1, 1000000)}),
            1, 50)),
        optional(integer(QStringLiteral("any_int"), LLONG_MIN, LLONG_MAX)),
        optional(array(QStringLiteral("tags"), str(QString(), 1, 16), 0, 20)),
    };
    return schema;
}

void checkIsReply(const QByteArray &bytes)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    PREPAY_CHECK(error.error == QJsonParseError::NoError && doc.isObject());
    PREPAY_CHECK(doc.object().value(QStringLiteral("jsonrpc")) == QJsonValue(QStringLiteral("2.0")));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView frame(reinterpret_cast<const char *>(data), qsizetype(size));
    const Decoded decoded = decode(frame);
    PREPAY_CHECK(decoded.request.has_value() != decoded.error.has_value());
    if (decoded.error) {
        PREPAY_CHECK(errorCodeFromInt(int(decoded.error->code)).has_value());
        checkIsReply(encodeError(decoded.idForError, *decoded.error));
        return 0;
    }
    const Request &request = *decoded.request;
    const std::optional<Error> refusal = check(sampleSchema(), request.params);
    if (refusal)
        PREPAY_CHECK(refusal->code == ErrorCode::InvalidParams && !refusal->data.isEmpty());
    if (!request.isNotification)
        checkIsReply(refusal ? encodeError(request.id, *refusal) : encodeResult(request.id, request.params));

    const Decoded again = decode(encodeNotification(request.method, request.params), LLONG_MAX);
    PREPAY_CHECK(again.request && again.request->method == request.method && again.request->params == request.params);
    return 0;
}
