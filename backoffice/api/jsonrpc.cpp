#include "jsonrpc.h"

#include "check.h"
#include "schema.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonParseError>
#include <QtCore/QSet>
#include <QtCore/QStringDecoder>

#include <vector>

namespace prepay::rpc {

namespace {

const QString kJsonrpc = QStringLiteral("jsonrpc");
const QString kId = QStringLiteral("id");
const QString kMethod = QStringLiteral("method");
const QString kParams = QStringLiteral("params");
const QString kField = QStringLiteral("field");

// The text of a JSON string literal between its quotes (escapes decoded), as Qt's parser
// would produce it: runs of UTF-8 as they are, \uXXXX as one UTF-16 unit each (a surrogate
// pair thus becomes the same two units). The frame was checked to be UTF-8 already.
// Malformed escapes decode to something arbitrary: QJsonDocument refuses such a frame anyway.
QString decodeJsonString(QByteArrayView raw)
{
    // Stateless, and keeping an initial U+FEFF (QString::fromUtf8 would drop it at the start
    // of each run): two keys that differ only there must stay different.
    QStringDecoder utf8(
        QStringDecoder::Utf8, QStringDecoder::Flag::Stateless | QStringDecoder::Flag::ConvertInitialBom);
    QString out;
    out.reserve(raw.size());
    qsizetype runStart = 0;
    qsizetype i = 0;
    while (i < raw.size()) {
        if (raw[i] != '\\') {
            ++i;
            continue;
        }
        out += utf8.decode(raw.sliced(runStart, i - runStart));
        const char e = i + 1 < raw.size() ? raw[i + 1] : '\0';
        i += 2;
        switch (e) {
        case 'b': out += QChar(u'\b'); break;
        case 'f': out += QChar(u'\f'); break;
        case 'n': out += QChar(u'\n'); break;
        case 'r': out += QChar(u'\r'); break;
        case 't': out += QChar(u'\t'); break;
        case 'u': {
            char16_t unit = 0;
            for (int k = 0; k < 4 && i < raw.size(); ++k, ++i) {
                const char h = raw[i];
                const int digit = h >= '0' && h <= '9' ? h - '0'
                    : h >= 'a' && h <= 'f'             ? h - 'a' + 10
                    : h >= 'A' && h <= 'F'             ? h - 'A' + 10
                                                       : 0;
                unit = char16_t(unit * 16 + digit);
            }
            out += QChar(unit);
            break;
        }
        default: out += QLatin1Char(e); break; // '"', '\\', '/'
        }
        runStart = i;
    }
    if (runStart < raw.size())
        out += utf8.decode(raw.sliced(runStart));
    return out;
}

// What the pre-scan found. The scan runs before QJsonDocument and does not validate JSON: it
// tracks strings and brackets well enough to bound the nesting, to see what Qt's parser lets
// through or misreads inside strings, and to name the first key that repeats within one
// object. Its refusals before parsing (depth, string content) hold for any input, since they
// only look at bytes inside or outside strings; a duplicate is reported only once
// QJsonDocument has accepted the frame, so malformed input still gets ParseError.
struct Scan
{
    bool tooDeep = false;
    // Invalid JSON that Qt's parser accepts: a raw byte < 0x20 inside a string, or an escape
    // other than \" \\ \/ \b \f \n \r \t \uXXXX (Qt reads "\x41" as "x41"). Empty if none.
    QString syntaxError;
    // Valid JSON that Qt's parser reads wrongly: a string whose first character is a raw
    // (unescaped) U+FEFF. Qt 6.4 drops it (QString::fromUtf8 skips a leading byte order mark),
    // so {"\xEF\xBB\xBFa":1,"a":2} would become an object with two members both called "a".
    bool leadingByteOrderMark = false;
    QString duplicatePath; // "params.amount_fen"; empty when there is none
    bool duplicateTopLevelId = false;
};

struct Container
{
    bool isObject = false;
    bool expectKey = false; // an object, after '{' or ',': the next string is a key
    qsizetype index = 0;    // an array: the index of the current element
    QString lastKey;        // an object: the key of the current member
    QSet<QString> keys;
};

// What follows a backslash inside a JSON string: one of "\\/bfnrt, or u and four hex digits.
bool isValidEscape(QByteArrayView rest)
{
    if (rest.isEmpty())
        return false;
    switch (rest[0]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't': return true;
    case 'u':
        if (rest.size() < 5)
            return false;
        for (qsizetype k = 1; k < 5; ++k) {
            const char h = rest[k];
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                return false;
        }
        return true;
    default: return false;
    }
}

QString pathOf(const std::vector<Container> &stack, const QString &key)
{
    QString path;
    for (const Container &c : stack) {
        if (&c == &stack.back())
            break;
        if (c.isObject)
            path += (path.isEmpty() ? QString() : QStringLiteral(".")) + printable(c.lastKey);
        else
            path += u'[' + QString::number(c.index) + u']';
    }
    return path + (path.isEmpty() ? QString() : QStringLiteral(".")) + printable(key);
}

Scan scan(QByteArrayView frame)
{
    Scan result;
    std::vector<Container> stack;
    stack.reserve(kNestingDepthMax);
    bool inString = false;
    qsizetype stringStart = 0;
    for (qsizetype i = 0; i < frame.size(); ++i) {
        const auto c = static_cast<unsigned char>(frame[i]);
        if (inString) {
            if (c == '\\') {
                if (!isValidEscape(frame.sliced(i + 1))) {
                    result.syntaxError = QStringLiteral("invalid escape sequence in a string");
                    return result;
                }
                ++i; // the escaped character cannot end the string
            } else if (c == '"') {
                inString = false;
                if (!stack.empty() && stack.back().isObject && stack.back().expectKey) {
                    Container &top = stack.back();
                    top.lastKey = decodeJsonString(frame.sliced(stringStart, i - stringStart));
                    top.expectKey = false;
                    if (top.keys.contains(top.lastKey)) {
                        if (result.duplicatePath.isEmpty()) {
                            result.duplicatePath = pathOf(stack, top.lastKey);
                            result.duplicateTopLevelId = stack.size() == 1 && top.lastKey == kId;
                        }
                    } else {
                        top.keys.insert(top.lastKey);
                    }
                }
            } else if (c < 0x20) {
                result.syntaxError = QStringLiteral("control character inside a string");
                return result;
            }
            continue;
        }
        switch (c) {
        case '"':
            inString = true;
            stringStart = i + 1;
            if (frame.sliced(stringStart).startsWith("\xEF\xBB\xBF")) {
                result.leadingByteOrderMark = true;
                return result;
            }
            break;
        case '{':
        case '[':
            if (stack.size() >= size_t(kNestingDepthMax)) {
                result.tooDeep = true;
                return result;
            }
            stack.emplace_back();
            stack.back().isObject = c == '{';
            stack.back().expectKey = c == '{';
            break;
        case '}':
        case ']':
            if (!stack.empty())
                stack.pop_back();
            break;
        case ',':
            if (!stack.empty()) {
                if (stack.back().isObject)
                    stack.back().expectKey = true;
                else
                    ++stack.back().index;
            }
            break;
        default: break;
        }
    }
    return result;
}

Error makeError(ErrorCode code, const QString &message, const QString &field = QString())
{
    Error e;
    e.code = code;
    e.message = message;
    if (!field.isEmpty())
        e.data.insert(kField, field);
    return e;
}

Decoded refused(Error error, const QJsonValue &id = QJsonValue(QJsonValue::Null))
{
    Decoded d;
    d.error = std::move(error);
    d.idForError = id;
    return d;
}

bool isValidId(const QJsonValue &v)
{
    if (v.isString()) {
        const QString s = v.toString();
        return codePointCount(s) <= kIdCharsMax && !hasForbiddenCharacters(s);
    }
    return isSafeInteger(v);
}

bool isValidMethodName(const QString &method)
{
    if (method.isEmpty() || method.size() > kMethodCharsMax)
        return false;
    for (QChar ch : method) {
        const char16_t u = ch.unicode();
        if (!((u >= u'a' && u <= u'z') || (u >= u'0' && u <= u'9') || u == u'_' || u == u'.'))
            return false;
    }
    return true;
}

} // namespace

QString errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::ParseError: return QStringLiteral("parse_error");
    case ErrorCode::InvalidRequest: return QStringLiteral("invalid_request");
    case ErrorCode::MethodNotFound: return QStringLiteral("method_not_found");
    case ErrorCode::InvalidParams: return QStringLiteral("invalid_params");
    case ErrorCode::InternalError: return QStringLiteral("internal_error");
    case ErrorCode::Unauthenticated: return QStringLiteral("unauthenticated");
    case ErrorCode::Forbidden: return QStringLiteral("forbidden");
    case ErrorCode::NotFound: return QStringLiteral("not_found");
    case ErrorCode::Conflict: return QStringLiteral("conflict");
    case ErrorCode::RateLimited: return QStringLiteral("rate_limited");
    case ErrorCode::Locked: return QStringLiteral("locked");
    case ErrorCode::WrongPin: return QStringLiteral("wrong_pin");
    case ErrorCode::ApprovalRequired: return QStringLiteral("approval_required");
    case ErrorCode::Unavailable: return QStringLiteral("unavailable");
    }
    Q_UNREACHABLE();
}

const QList<ErrorCode> &allErrorCodes()
{
    static const QList<ErrorCode> codes{ErrorCode::ParseError, ErrorCode::InvalidRequest, ErrorCode::MethodNotFound,
        ErrorCode::InvalidParams, ErrorCode::InternalError, ErrorCode::Unauthenticated, ErrorCode::Forbidden,
        ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::RateLimited, ErrorCode::Locked, ErrorCode::WrongPin,
        ErrorCode::ApprovalRequired, ErrorCode::Unavailable};
    return codes;
}

std::optional<ErrorCode> errorCodeFromInt(int code)
{
    for (ErrorCode c : allErrorCodes()) {
        if (int(c) == code)
            return c;
    }
    return std::nullopt;
}

Decoded decode(QByteArrayView frame, qsizetype maxBytes)
{
    // Cheapest refusals first: size, encoding, then the bracket scan, and only then the parser.
    if (frame.size() > maxBytes)
        return refused(makeError(ErrorCode::InvalidRequest,
            QStringLiteral("frame of %1 bytes exceeds the limit of %2 bytes").arg(frame.size()).arg(maxBytes)));
    if (!frame.isValidUtf8())
        return refused(makeError(ErrorCode::ParseError, QStringLiteral("frame is not valid UTF-8")));
    if (frame.startsWith("\xEF\xBB\xBF"))
        return refused(makeError(ErrorCode::ParseError, QStringLiteral("frame starts with a byte order mark")));

    const Scan found = scan(frame);
    if (found.tooDeep)
        return refused(makeError(
            ErrorCode::InvalidRequest, QStringLiteral("nesting deeper than %1 levels").arg(kNestingDepthMax)));
    if (found.leadingByteOrderMark)
        return refused(makeError(ErrorCode::InvalidRequest,
            QStringLiteral("a string starts with a raw U+FEFF, which the parser would drop "
                           "(send it escaped as \\ufeff)")));
    if (!found.syntaxError.isEmpty())
        return refused(makeError(ErrorCode::ParseError, QStringLiteral("not valid JSON: ") + found.syntaxError));

    QJsonParseError parseError;
    // fromRawData: no copy; the document copies what it keeps.
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(frame.data(), frame.size()), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return refused(makeError(ErrorCode::ParseError,
            QStringLiteral("not valid JSON: %1 at offset %2").arg(parseError.errorString()).arg(parseError.offset)));
    if (doc.isArray())
        return refused(makeError(ErrorCode::InvalidRequest, QStringLiteral("batches are not supported")));
    if (!doc.isObject())
        return refused(makeError(ErrorCode::InvalidRequest, QStringLiteral("a request must be a JSON object")));
    const QJsonObject obj = doc.object();

    // The id first, so that every later refusal can carry it.
    const auto idIt = obj.constFind(kId);
    const bool isNotification = idIt == obj.constEnd();
    QJsonValue id(QJsonValue::Null);
    if (!isNotification) {
        if (found.duplicateTopLevelId || !isValidId(*idIt))
            return refused(makeError(ErrorCode::InvalidRequest,
                QStringLiteral("id must be a string of at most %1 characters or an integer "
                               "between -(2^53-1) and 2^53-1")
                    .arg(kIdCharsMax),
                kId));
        id = idIt->isString() ? QJsonValue(idIt->toString()) : QJsonValue(idIt->toInteger());
    }

    if (!found.duplicatePath.isEmpty())
        return refused(makeError(ErrorCode::InvalidRequest,
                           QStringLiteral("duplicate key '%1'").arg(found.duplicatePath), found.duplicatePath),
            id);
    const QJsonValue version = obj.value(kJsonrpc);
    if (!version.isString() || version.toString() != QLatin1String("2.0"))
        return refused(makeError(ErrorCode::InvalidRequest, QStringLiteral("jsonrpc must be \"2.0\""), kJsonrpc), id);
    for (auto it = obj.constBegin(); it != obj.constEnd(); ++it) {
        if (it.key() != kJsonrpc && it.key() != kId && it.key() != kMethod && it.key() != kParams)
            return refused(makeError(ErrorCode::InvalidRequest,
                               QStringLiteral("unknown member '%1'").arg(printable(it.key())), printable(it.key())),
                id);
    }
    const QJsonValue method = obj.value(kMethod);
    if (!method.isString() || !isValidMethodName(method.toString()))
        return refused(
            makeError(ErrorCode::InvalidRequest,
                QStringLiteral("method must be 1 to %1 characters of a-z, 0-9, '_' and '.'").arg(kMethodCharsMax),
                kMethod),
            id);
    const auto paramsIt = obj.constFind(kParams);
    if (paramsIt != obj.constEnd() && !paramsIt->isObject()) {
        // Positional params are valid JSON-RPC that prepay does not accept: InvalidParams.
        // A scalar or null is not a valid request at all.
        if (paramsIt->isArray())
            return refused(makeError(ErrorCode::InvalidParams,
                               QStringLiteral("params must be an object (named parameters)"), kParams),
                id);
        return refused(makeError(ErrorCode::InvalidRequest, QStringLiteral("params must be an object"), kParams), id);
    }

    Request request;
    request.id = id;
    request.isNotification = isNotification;
    request.method = method.toString();
    if (paramsIt != obj.constEnd())
        request.params = paramsIt->toObject();
    Decoded d;
    d.request = std::move(request);
    d.idForError = id;
    return d;
}

QByteArray encodeResult(const QJsonValue &id, const QJsonValue &result)
{
    PREPAY_CHECK(id.isString() || isSafeInteger(id));
    QJsonObject reply;
    reply.insert(kJsonrpc, QStringLiteral("2.0"));
    reply.insert(kId, id);
    reply.insert(QStringLiteral("result"), result.isUndefined() ? QJsonValue(QJsonValue::Null) : result);
    return QJsonDocument(reply).toJson(QJsonDocument::Compact);
}

QByteArray encodeError(const QJsonValue &id, const Error &error)
{
    PREPAY_CHECK(id.isNull() || id.isString() || isSafeInteger(id));
    QJsonObject body;
    body.insert(QStringLiteral("code"), int(error.code));
    body.insert(QStringLiteral("message"), error.message);
    if (!error.data.isEmpty())
        body.insert(QStringLiteral("data"), error.data);
    QJsonObject reply;
    reply.insert(kJsonrpc, QStringLiteral("2.0"));
    reply.insert(kId, id);
    reply.insert(QStringLiteral("error"), body);
    return QJsonDocument(reply).toJson(QJsonDocument::Compact);
}

QByteArray encodeNotification(const QString &method, const QJsonObject &params)
{
    PREPAY_CHECK(isValidMethodName(method));
    QJsonObject push;
    push.insert(kJsonrpc, QStringLiteral("2.0"));
    push.insert(kMethod, method);
    push.insert(kParams, params);
    return QJsonDocument(push).toJson(QJsonDocument::Compact);
}

} // namespace prepay::rpc
