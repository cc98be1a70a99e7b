// JSON-RPC 2.0 framing for prepayd's WebSocket API: one text frame carries one request, one
// reply or one server notification. This file only turns bytes into a checked Request (or a
// numbered Error) and replies back into bytes; it knows no method, principal or database. The
// method table lives in contract.h, the parameter checks in schema.h, dispatch in service/.
//
// The decoder is deliberately stricter than JSON-RPC requires, because every frame comes from
// the network and an ambiguous request is one the server might understand differently from
// the client that sent it:
//  - a frame longer than maxBytes is refused before it is parsed (InvalidRequest);
//  - bytes that are not UTF-8 (overlong forms, encoded surrogates, > U+10FFFF), a byte order
//    mark, raw control characters inside strings, escapes JSON does not define ("\x41", "\'"),
//    all of which Qt's parser would let through, or anything QJsonDocument rejects: ParseError;
//  - objects and arrays nested deeper than kNestingDepthMax are refused before QJsonDocument
//    sees them (InvalidRequest), so no input can drive a parser's recursion;
//  - the same key twice in one object is refused (QJsonDocument would silently keep the last,
//    so a proxy reading the first could be shown a different request than the one executed);
//  - a string (key or value) starting with a raw U+FEFF is refused (InvalidRequest): Qt 6.4's
//    parser silently drops that character, so two distinct keys could come out equal; the
//    escaped form \ufeff is kept by Qt and accepted;
//  - batches (a top-level array) are refused: every request is one frame, one reply;
//  - "jsonrpc" must be exactly "2.0"; no members other than jsonrpc, id, method and params;
//  - id: a string of at most kIdCharsMax characters without control characters, or an integer
//    with |id| ≤ kSafeIntegerMax, or absent (a notification). null, fractions, booleans,
//    objects are refused. Note: Qt's parser turns 1.0 and 1e3 into the integers 1 and 1000,
//    so those are accepted as integer ids; 1.5 is refused;
//  - method: 1..kMethodCharsMax characters of [a-z0-9_.];
//  - params: absent (taken as {}) or an object; positional (array) params are refused.
//
// When a request is refused, idForError carries its id if the id itself was valid (so the
// client can match the error to its request) and null otherwise, as JSON-RPC 2.0 §5 asks.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QtGlobal>

#include <optional>

namespace prepay::rpc {

// Limits of the wire format (STYLE.md habit 8).
inline constexpr qsizetype kFrameBytesMax = 256 * 1024; // decode()'s default
inline constexpr int kNestingDepthMax = 32;             // objects + arrays, the request object counts
inline constexpr qsizetype kIdCharsMax = 64;
inline constexpr qsizetype kMethodCharsMax = 64;
inline constexpr qint64 kSafeIntegerMax = (qint64(1) << 53) - 1; // what a JavaScript number holds exactly
static_assert(kNestingDepthMax >= 4, "request → params → object → array must fit");

// Stable error codes, published in docs/api.md: JSON-RPC's own (-32700..-32600) and prepay's
// (-32000..-32099). A code never changes meaning; new outcomes get new codes.
enum class ErrorCode : int {
    ParseError = -32700,     // not UTF-8, not JSON
    InvalidRequest = -32600, // JSON, but not a request we accept (see the list above)
    MethodNotFound = -32601,
    InvalidParams = -32602, // the method's schema refused the params (data.field names the member)
    InternalError = -32603,
    Unauthenticated = -32001,  // no session, or it expired
    Forbidden = -32003,        // the principal may not call this method
    NotFound = -32004,         // the thing named in params does not exist
    Conflict = -32009,         // state changed underneath (stale version, duplicate key)
    RateLimited = -32029,      // too many requests; data.retry_after_ms says when to retry
    Locked = -32023,           // the account or operator is locked
    WrongPin = -32024,         // kiosk.check_pin: not the tenant's PIN (data.attempts_left)
    ApprovalRequired = -32030, // maker-checker: a second operator must approve
    Unavailable = -32050,      // the service cannot serve now (shutting down, store stopped)
};

// The snake_case name for logs and docs: "parse_error", "invalid_params", "forbidden", …
QString errorCodeName(ErrorCode code);
// The code for a number received on the wire, or nullopt for a number not in the list.
std::optional<ErrorCode> errorCodeFromInt(int code);
// Every code, in the order of the enum (for docs and exhaustive tests).
const QList<ErrorCode> &allErrorCodes();

struct Error
{
    ErrorCode code = ErrorCode::InternalError;
    QString message;  // one sentence for a person (English), never a stack trace or SQL
    QJsonObject data; // machine-readable detail, e.g. {"field":"params.amount_fen"}; omitted when empty
};

struct Request
{
    QJsonValue id;               // a string or an integer; Null for a notification
    bool isNotification = false; // id was absent: the server sends no reply, not even an error
    QString method;              // matches [a-z0-9_.]{1,64}
    QJsonObject params;          // {} when absent
};

// Exactly one of request / error is set.
struct Decoded
{
    std::optional<Request> request;
    std::optional<Error> error;
    QJsonValue idForError; // the request's id when it was valid, else Null (for encodeError)
};

// One WebSocket text frame → one request (see the rules at the top of this file).
Decoded decode(QByteArrayView frame, qsizetype maxBytes = kFrameBytesMax);

// Replies and pushes, as compact JSON. `id` must be a string or an integer (checked: passing
// anything else is a programmer error); encodeError also takes Null for "unknown id".
QByteArray encodeResult(const QJsonValue &id, const QJsonValue &result);
QByteArray encodeError(const QJsonValue &id, const Error &error);
// A server push (a JSON-RPC notification: no id, the client does not answer).
QByteArray encodeNotification(const QString &method, const QJsonObject &params);

} // namespace prepay::rpc
