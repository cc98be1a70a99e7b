// The JSON-RPC 2.0 contract layer (api/jsonrpc.h, api/schema.h, api/contract.h):
//  - decode() accepts the documented request forms and refuses every other one with its code,
//    its exact message, data.field and the right id (the request's when valid, else null);
//  - ids come back from encodeResult()/encodeError() exactly as they were sent;
//  - the limits hold at their boundaries: 2^53-1, 32 levels of nesting, the frame size;
//  - check() applies every schema rule and names the failing member by its full path;
//  - a list of hostile strings (tests/data/hostile-strings.txt) is accepted as plain text
//    or refused with a numbered error in every position of a request, and never crashes.
#include "api/contract.h"
#include "api/jsonrpc.h"
#include "api/schema.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRandomGenerator>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QStringDecoder>
#include <QtTest/QTest>

#include <climits>

using namespace prepay;
using namespace prepay::rpc;

namespace {

QJsonObject parseObject(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("test JSON does not parse: %s", json.constData());
    return doc.object();
}

QByteArray request(const QByteArray &id, const QByteArray &method, const QByteArray &params)
{
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + '}';
}

// The bytes as the content of a JSON string literal: '"', '\\' and bytes below 0x20 escaped,
// everything else (invalid UTF-8 included) as it is.
QByteArray jsonStringContent(const QByteArray &bytes)
{
    QByteArray out;
    out.reserve(bytes.size() + 16);
    for (char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += QByteArray::number(u, 16).rightJustified(2, '0');
        } else {
            out += c;
        }
    }
    return out;
}

QByteArray nested(int depth)
{
    // depth containers in all: the request object, params, then depth - 2 objects inside.
    QByteArray inner = "{}";
    for (int i = 0; i < depth - 3; ++i)
        inner = "{\"n\":" + inner + '}';
    return request("1", "a.b", "{\"n\":" + inner + '}');
}

// --- tests/data/hostile-strings.txt (see the format at the top of that file) ---

struct Hostile
{
    int line = 0;
    QByteArray bytes;
};

QByteArray decodeEscapes(const QByteArray &text, int line)
{
    QByteArray out;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '\\') {
            out += '\\';
            ++i;
            continue;
        }
        bool ok = false;
        const int byte = i + 3 < text.size() && text[i + 1] == 'x' ? text.mid(i + 2, 2).toInt(&ok, 16) : 0;
        if (!ok)
            qFatal("hostile-strings.txt line %d: bad escape", line);
        out += char(byte);
        i += 3;
    }
    return out;
}

QList<Hostile> loadHostileStrings()
{
    QFile file(QStringLiteral(PREPAY_TEST_DATA_DIR "/hostile-strings.txt"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open hostile-strings.txt");
    QList<Hostile> list;
    int lineNumber = 0;
    const QList<QByteArray> lines = file.readAll().split('\n');
    for (const QByteArray &line : lines) {
        ++lineNumber;
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        Hostile h;
        h.line = lineNumber;
        if (line == "@empty") {
            // the empty string
        } else if (line.startsWith("@repeat ")) {
            const qsizetype space = line.indexOf(' ', 8);
            bool ok = false;
            const int n = space > 0 ? line.mid(8, space - 8).toInt(&ok) : 0;
            if (!ok || n <= 0)
                qFatal("hostile-strings.txt line %d: bad @repeat", lineNumber);
            h.bytes = decodeEscapes(line.mid(space + 1), lineNumber).repeated(n);
        } else if (line.startsWith('@')) {
            qFatal("hostile-strings.txt line %d: unknown directive", lineNumber);
        } else {
            h.bytes = decodeEscapes(line, lineNumber);
        }
        list.append(h);
    }
    return list;
}

// The rules of schema.h computed another way (through UCS-4, where Qt turns invalid UTF-16
// into U+FFFD): nullopt when a string field of maxChars would accept `text`.
bool oracleAccepts(const QString &text, qsizetype maxChars)
{
    const QList<uint> ucs4 = text.toUcs4();
    if (ucs4.size() > maxChars)
        return false;
    for (uint c : ucs4) {
        if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xFFFD)
            return false;
    }
    return true;
}

// UTF-8 to a QString exactly (QString::fromUtf8 drops a leading U+FEFF); invalid sequences
// become U+FFFD.
QString utf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::ConvertInitialBom);
    return decoder.decode(bytes);
}

bool isOneOf(ErrorCode code, std::initializer_list<ErrorCode> codes)
{
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// The sample schema for the rule tests.
Schema sampleSchema()
{
    return Schema{
        integer(QStringLiteral("amount_fen"), 100, 500000),
        optional(str(QStringLiteral("note"), 0, 20)),
        optional(boolean(QStringLiteral("print"))),
        optional(enumeration(
            QStringLiteral("channel"), {QStringLiteral("cash"), QStringLiteral("wechat"), QStringLiteral("alipay")})),
        optional(matching(str(QStringLiteral("meter_id"), 1, 16), QStringLiteral("[A-Z]{2}-[0-9]{4}"))),
        optional(object(QStringLiteral("payer"),
            {str(QStringLiteral("name"), 1, 10), optional(integer(QStringLiteral("age"), 0, 150))})),
        optional(array(QStringLiteral("items"),
            object(QString(), {str(QStringLiteral("meter_id"), 1, 16), integer(QStringLiteral("amount_fen"), 1, 1000)}),
            1, 3)),
        optional(integer(QStringLiteral("any_int"), LLONG_MIN, LLONG_MAX)),
        optional(array(QStringLiteral("tags"), str(QString(), 1, 5), 0, LLONG_MAX)),
        optional(str(QStringLiteral("long_text"), 2, LLONG_MAX)),
    };
}

} // namespace

class TestJsonRpc : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validRequests_data();
    void validRequests();
    void refusals_data();
    void refusals();
    void parseErrorsKeepQtsReason();
    void idsEchoExactly_data();
    void idsEchoExactly();
    void nestingLimit();
    void frameSizeLimit();
    void encodeForms();
    void notificationRoundTrip();
    void errorCodesAreStable();
    void principals();
    void schemaRules_data();
    void schemaRules();
    void schemaBuilders();
    void textHelpers();
    void hostileStrings();
    void randomBytesNeverCrash();
};

void TestJsonRpc::validRequests_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QByteArray>("id"); // the id as JSON text; empty: a notification
    QTest::addColumn<QString>("method");
    QTest::addColumn<QByteArray>("params"); // as JSON text

    QTest::newRow("integer id") << request("1", "account.get", "{\"account_id\":7}") << QByteArray("1")
                                << QStringLiteral("account.get") << QByteArray("{\"account_id\":7}");
    QTest::newRow("string id") << request("\"req-1\"", "a.b", "{}") << QByteArray("\"req-1\"") << QStringLiteral("a.b")
                               << QByteArray("{}");
    QTest::newRow("empty string id") << request("\"\"", "a", "{}") << QByteArray("\"\"") << QStringLiteral("a")
                                     << QByteArray("{}");
    QTest::newRow("id 0") << request("0", "a", "{}") << QByteArray("0") << QStringLiteral("a") << QByteArray("{}");
    QTest::newRow("negative id") << request("-42", "a", "{}") << QByteArray("-42") << QStringLiteral("a")
                                 << QByteArray("{}");
    QTest::newRow("id 2^53-1") << request("9007199254740991", "a", "{}") << QByteArray("9007199254740991")
                               << QStringLiteral("a") << QByteArray("{}");
    QTest::newRow("id -(2^53-1)") << request("-9007199254740991", "a", "{}") << QByteArray("-9007199254740991")
                                  << QStringLiteral("a") << QByteArray("{}");
    QTest::newRow("id of 64 characters") << request('"' + QByteArray(64, 'x') + '"', "a", "{}")
                                         << QByteArray('"' + QByteArray(64, 'x') + '"') << QStringLiteral("a")
                                         << QByteArray("{}");
    QTest::newRow("id of 64 emoji") << request('"' + QByteArray("😀").repeated(64) + '"', "a", "{}")
                                    << QByteArray('"' + QByteArray("😀").repeated(64) + '"') << QStringLiteral("a")
                                    << QByteArray("{}");
    QTest::newRow("notification") << QByteArray("{\"jsonrpc\":\"2.0\",\"method\":\"kiosk.heartbeat\"}") << QByteArray()
                                  << QStringLiteral("kiosk.heartbeat") << QByteArray("{}");
    QTest::newRow("params absent") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"version\"}")
                                   << QByteArray("5") << QStringLiteral("version") << QByteArray("{}");
    QTest::newRow("members in any order")
        << QByteArray("{\"params\":{\"x\":[1,{\"y\":null}]},\"method\":\"a_b.c9\",\"id\":\"z\",\"jsonrpc\":\"2.0\"}")
        << QByteArray("\"z\"") << QStringLiteral("a_b.c9") << QByteArray("{\"x\":[1,{\"y\":null}]}");
    QTest::newRow("whitespace around") << QByteArray(
        " \r\n\t{ \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"method\" : \"a\" } \n")
                                       << QByteArray("1") << QStringLiteral("a") << QByteArray("{}");
    QTest::newRow("method of 64 characters")
        << request("1", QByteArray(64, 'm'), "{}") << QByteArray("1") << QString(64, u'm') << QByteArray("{}");
    QTest::newRow("same key in different objects")
        << request("1", "a", "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}") << QByteArray("1") << QStringLiteral("a")
        << QByteArray("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}");
    QTest::newRow("brackets inside strings do not nest")
        << request("1", "a", "{\"s\":\"" + QByteArray(100, '[') + "{{{\\\"\"}") << QByteArray("1")
        << QStringLiteral("a") << QByteArray("{\"s\":\"" + QByteArray(100, '[') + "{{{\\\"\"}");
    QTest::newRow("escaped keys that differ")
        << request("1", "a", "{\"a\\u0062\":1,\"ab\\u0063\":2}") << QByteArray("1") << QStringLiteral("a")
        << QByteArray("{\"ab\":1,\"abc\":2}");
    QTest::newRow("escaped U+FEFF keeps its place")
        << request("1", "a", "{\"\\ufeffa\":1,\"a\":2,\"s\":\"x\xef\xbb\xbf\"}") << QByteArray("1")
        << QStringLiteral("a") << QByteArray("{\"\\ufeffa\":1,\"a\":2,\"s\":\"x\\ufeff\"}");
    QTest::newRow("control characters escaped in values")
        << request("1", "a", "{\"s\":\"\\u0000\\n\"}") << QByteArray("1") << QStringLiteral("a")
        << QByteArray("{\"s\":\"\\u0000\\n\"}");
}

void TestJsonRpc::validRequests()
{
    QFETCH(QByteArray, frame);
    QFETCH(QByteArray, id);
    QFETCH(QString, method);
    QFETCH(QByteArray, params);

    const Decoded d = decode(frame);
    QVERIFY2(!d.error, d.error ? qPrintable(d.error->message) : "");
    QVERIFY(d.request);
    QCOMPARE(d.request->method, method);
    QCOMPARE(d.request->params, parseObject(params));
    QCOMPARE(d.request->isNotification, id.isEmpty());
    if (id.isEmpty()) {
        QVERIFY(d.request->id.isNull());
    } else {
        const QJsonValue expected = parseObject("{\"id\":" + id + '}').value(QStringLiteral("id"));
        QCOMPARE(d.request->id, expected);
        QCOMPARE(d.idForError, expected);
    }
}

void TestJsonRpc::refusals_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("field"); // data.field; empty: no data
    QTest::addColumn<QByteArray>("id"); // idForError as JSON text

    const int parse = int(ErrorCode::ParseError);
    const int invalid = int(ErrorCode::InvalidRequest);
    const int params = int(ErrorCode::InvalidParams);
    const QString idMessage
        = QStringLiteral("id must be a string of at most 64 characters or an integer between -(2^53-1) and 2^53-1");
    const QString methodMessage = QStringLiteral("method must be 1 to 64 characters of a-z, 0-9, '_' and '.'");
    const QString versionMessage = QStringLiteral("jsonrpc must be \"2.0\"");
    const QString notUtf8 = QStringLiteral("frame is not valid UTF-8");

    // Encoding.
    QTest::newRow("invalid byte") << request("1", "a", "{\"s\":\"\xff\"}") << parse << notUtf8 << QString()
                                  << QByteArray("null");
    QTest::newRow("overlong slash") << request("1", "a", "{\"s\":\"\xc0\xaf\"}") << parse << notUtf8 << QString()
                                    << QByteArray("null");
    QTest::newRow("encoded surrogate") << request("1", "a", "{\"s\":\"\xed\xa0\x80\"}") << parse << notUtf8 << QString()
                                       << QByteArray("null");
    QTest::newRow("beyond U+10FFFF") << request("1", "a", "{\"s\":\"\xf4\x90\x80\x80\"}") << parse << notUtf8
                                     << QString() << QByteArray("null");
    QTest::newRow("truncated sequence") << QByteArray(request("1", "a", "{}") + "\xe4\xb8") << parse << notUtf8
                                        << QString() << QByteArray("null");
    QTest::newRow("byte order mark") << QByteArray("\xef\xbb\xbf" + request("1", "a", "{}")) << parse
                                     << QStringLiteral("frame starts with a byte order mark") << QString()
                                     << QByteArray("null");
    QTest::newRow("raw tab in a string") << request("1", "a", "{\"s\":\"a\tb\"}") << parse
                                         << QStringLiteral("not valid JSON: control character inside a string")
                                         << QString() << QByteArray("null");
    QTest::newRow("raw NUL in a string") << request("1", "a", QByteArray("{\"s\":\"a\0b\"}", 11)) << parse
                                         << QStringLiteral("not valid JSON: control character inside a string")
                                         << QString() << QByteArray("null");

    QTest::newRow("escape JSON does not define")
        << request("1", "a", "{\"s\":\"\\x41\"}") << parse
        << QStringLiteral("not valid JSON: invalid escape sequence in a string") << QString() << QByteArray("null");
    QTest::newRow("short unicode escape")
        << request("1", "a", "{\"s\":\"\\u41\"}") << parse
        << QStringLiteral("not valid JSON: invalid escape sequence in a string") << QString() << QByteArray("null");
    QTest::newRow("single-quote escape") << request("1", "a", "{\"s\":\"\\'\"}") << parse
                                         << QStringLiteral("not valid JSON: invalid escape sequence in a string")
                                         << QString() << QByteArray("null");

    const QString bomMessage
        = QStringLiteral("a string starts with a raw U+FEFF, which the parser would drop (send it escaped as \\ufeff)");
    QTest::newRow("raw U+FEFF starting a key") << request("1", "a",
        "{\"\xef\xbb\xbf"
        "amount_fen\":900000,\"amount_fen\":100}")
                                               << invalid << bomMessage << QString() << QByteArray("null");
    QTest::newRow("raw U+FEFF starting a value") << request("1", "a",
        "{\"s\":\"\xef\xbb\xbf"
        "x\"}") << invalid << bomMessage << QString()
                                                 << QByteArray("null");
    QTest::newRow("raw U+FEFF starting an id") << request("\"\xef\xbb\xbf"
                                                          "1\"",
        "a", "{}") << invalid << bomMessage << QString()
                                               << QByteArray("null");

    // Shape.
    QTest::newRow("batch") << QByteArray("[" + request("1", "a", "{}") + "]") << invalid
                           << QStringLiteral("batches are not supported") << QString() << QByteArray("null");
    QTest::newRow("empty batch") << QByteArray("[]") << invalid << QStringLiteral("batches are not supported")
                                 << QString() << QByteArray("null");

    // jsonrpc.
    QTest::newRow("jsonrpc missing") << QByteArray("{\"id\":7,\"method\":\"a\"}") << invalid << versionMessage
                                     << QStringLiteral("jsonrpc") << QByteArray("7");
    QTest::newRow("jsonrpc 1.0") << QByteArray("{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"a\"}") << invalid
                                 << versionMessage << QStringLiteral("jsonrpc") << QByteArray("7");
    QTest::newRow("jsonrpc as a number") << QByteArray("{\"jsonrpc\":2.0,\"id\":7,\"method\":\"a\"}") << invalid
                                         << versionMessage << QStringLiteral("jsonrpc") << QByteArray("7");
    QTest::newRow("jsonrpc with a space")
        << QByteArray("{\"jsonrpc\":\"2.0 \",\"id\":\"x\",\"method\":\"a\"}") << invalid << versionMessage
        << QStringLiteral("jsonrpc") << QByteArray("\"x\"");

    // id.
    QTest::newRow("id null") << request("null", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                             << QByteArray("null");
    QTest::newRow("id true") << request("true", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                             << QByteArray("null");
    QTest::newRow("id with a fraction") << request("1.5", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                                        << QByteArray("null");
    QTest::newRow("id 2^53") << request("9007199254740992", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                             << QByteArray("null");
    QTest::newRow("id -2^53") << request("-9007199254740992", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                              << QByteArray("null");
    QTest::newRow("id 2^63") << request("9223372036854775808", "a", "{}") << invalid << idMessage
                             << QStringLiteral("id") << QByteArray("null");
    QTest::newRow("id 1e20") << request("1e20", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                             << QByteArray("null");
    QTest::newRow("id object") << request("{}", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                               << QByteArray("null");
    QTest::newRow("id array") << request("[1]", "a", "{}") << invalid << idMessage << QStringLiteral("id")
                              << QByteArray("null");
    QTest::newRow("id of 65 characters") << request('"' + QByteArray(65, 'x') + '"', "a", "{}") << invalid << idMessage
                                         << QStringLiteral("id") << QByteArray("null");
    QTest::newRow("id with a control character")
        << request("\"a\\u0001\"", "a", "{}") << invalid << idMessage << QStringLiteral("id") << QByteArray("null");
    QTest::newRow("id with a lone surrogate")
        << request("\"a\\ud800\"", "a", "{}") << invalid << idMessage << QStringLiteral("id") << QByteArray("null");

    // method.
    QTest::newRow("method missing") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":3}") << invalid << methodMessage
                                    << QStringLiteral("method") << QByteArray("3");
    QTest::newRow("method empty") << request("3", "", "{}") << invalid << methodMessage << QStringLiteral("method")
                                  << QByteArray("3");
    QTest::newRow("method upper case") << request("3", "Account.get", "{}") << invalid << methodMessage
                                       << QStringLiteral("method") << QByteArray("3");
    QTest::newRow("method of 65 characters") << request("3", QByteArray(65, 'm'), "{}") << invalid << methodMessage
                                             << QStringLiteral("method") << QByteArray("3");
    QTest::newRow("method with a dash") << request("3", "a-b", "{}") << invalid << methodMessage
                                        << QStringLiteral("method") << QByteArray("3");
    QTest::newRow("method with a space") << request("3", "a b", "{}") << invalid << methodMessage
                                         << QStringLiteral("method") << QByteArray("3");
    QTest::newRow("method non-ASCII") << request("3", "caf\xc3\xa9", "{}") << invalid << methodMessage
                                      << QStringLiteral("method") << QByteArray("3");
    QTest::newRow("method a number") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":1}") << invalid
                                     << methodMessage << QStringLiteral("method") << QByteArray("3");
    QTest::newRow("method null") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":null}") << invalid
                                 << methodMessage << QStringLiteral("method") << QByteArray("3");

    // Members and params.
    QTest::newRow("unknown member") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"a\",\"foo\":1}")
                                    << invalid << QStringLiteral("unknown member 'foo'") << QStringLiteral("foo")
                                    << QByteArray("4");
    QTest::newRow("member in other case")
        << QByteArray("{\"jsonrpc\":\"2.0\",\"ID\":4,\"method\":\"a\"}") << invalid
        << QStringLiteral("unknown member 'ID'") << QStringLiteral("ID") << QByteArray("null");
    QTest::newRow("hostile member name") << QByteArray(
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"a\",\"x\\n\\u0000y\":1}")
                                         << invalid << QStringLiteral("unknown member 'x??y'") << QStringLiteral("x??y")
                                         << QByteArray("4");
    QTest::newRow("result member in a request")
        << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"a\",\"result\":1}") << invalid
        << QStringLiteral("unknown member 'result'") << QStringLiteral("result") << QByteArray("4");
    QTest::newRow("positional params") << request("5", "a", "[1,2]") << params
                                       << QStringLiteral("params must be an object (named parameters)")
                                       << QStringLiteral("params") << QByteArray("5");
    QTest::newRow("params a string") << request("5", "a", "\"x\"") << invalid
                                     << QStringLiteral("params must be an object") << QStringLiteral("params")
                                     << QByteArray("5");
    QTest::newRow("params null") << request("5", "a", "null") << invalid << QStringLiteral("params must be an object")
                                 << QStringLiteral("params") << QByteArray("5");

    // Duplicate keys.
    QTest::newRow("duplicate method") << QByteArray(
        "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"a\",\"method\":\"admin.reset\"}")
                                      << invalid << QStringLiteral("duplicate key 'method'") << QStringLiteral("method")
                                      << QByteArray("6");
    QTest::newRow("duplicate id") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":6,\"id\":7,\"method\":\"a\"}") << invalid
                                  << idMessage << QStringLiteral("id") << QByteArray("null");
    QTest::newRow("duplicate param") << request("6", "a", "{\"amount_fen\":100,\"amount_fen\":900000}") << invalid
                                     << QStringLiteral("duplicate key 'params.amount_fen'")
                                     << QStringLiteral("params.amount_fen") << QByteArray("6");
    QTest::newRow("duplicate in an array element") << request("6", "a", "{\"items\":[{\"a\":1},{\"b\":1,\"b\":2}]}")
                                                   << invalid << QStringLiteral("duplicate key 'params.items[1].b'")
                                                   << QStringLiteral("params.items[1].b") << QByteArray("6");
    QTest::newRow("duplicate through an escape")
        << request("6", "a", "{\"a\":1,\"\\u0061\":2}") << invalid << QStringLiteral("duplicate key 'params.a'")
        << QStringLiteral("params.a") << QByteArray("6");
    QTest::newRow("duplicate through a surrogate pair escape")
        << request("6", "a", "{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}") << invalid
        << QStringLiteral("duplicate key 'params.😀'") << QStringLiteral("params.😀") << QByteArray("6");
    QTest::newRow("duplicate with a tricky key")
        << request("6", "a", "{\"x\\\"y\":{\"a\\\\\":1,\"a\\\\\":1}}") << invalid
        << QStringLiteral("duplicate key 'params.x\"y.a\\'") << QStringLiteral("params.x\"y.a\\") << QByteArray("6");
}

void TestJsonRpc::refusals()
{
    QFETCH(QByteArray, frame);
    QFETCH(int, code);
    QFETCH(QString, message);
    QFETCH(QString, field);
    QFETCH(QByteArray, id);

    const Decoded d = decode(frame);
    QVERIFY(!d.request);
    QVERIFY(d.error);
    QCOMPARE(int(d.error->code), code);
    QCOMPARE(d.error->message, message);
    QCOMPARE(d.error->data.value(QStringLiteral("field")).toString(), field);
    QCOMPARE(d.error->data.isEmpty(), field.isEmpty());
    QCOMPARE(d.idForError, parseObject("{\"id\":" + id + '}').value(QStringLiteral("id")));

    // The reply to the refusal is valid JSON-RPC carrying the same code and id.
    const QJsonObject reply = parseObject(encodeError(d.idForError, *d.error));
    QCOMPARE(reply.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), code);
    QCOMPARE(reply.value(QStringLiteral("id")), d.idForError);
}

void TestJsonRpc::parseErrorsKeepQtsReason()
{
    const QList<QByteArray> frames{"", "hello", "{", "{\"jsonrpc\":\"2.0\",}", "{'jsonrpc':'2.0'}", "{\"a\":1} x",
        "{}{}", "{\"a\":NaN}", "{\"a\":01}", "{\"a\":1e400}", "/* comment */ {}", "1", "\"just a string\"", "null",
        "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "{\"a\" 1}", QByteArray(1, '\0')};
    for (const QByteArray &frame : frames) {
        const Decoded d = decode(frame);
        QVERIFY2(d.error, frame.constData());
        QVERIFY2(d.error->code == ErrorCode::ParseError, frame.constData());
        QVERIFY2(d.error->message.startsWith(QStringLiteral("not valid JSON: ")), qPrintable(d.error->message));
        QVERIFY(d.idForError.isNull());
    }
}

void TestJsonRpc::idsEchoExactly_data()
{
    QTest::addColumn<QByteArray>("id");
    for (const char *id : {"0", "1", "-1", "42", "9007199254740991", "-9007199254740991", "4503599627370497", "\"\"",
             "\"abc\"", "\"00017\"", "\"1\"", "\"中文编号\"", "\"😀🇨🇳\"", "\"a\\\"b\\\\c\"", "\"\\u00e9t\\u00e9\"",
             "\"9007199254740993\"",
             "\""
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
             "\""})
        QTest::newRow(id) << QByteArray(id);
}

void TestJsonRpc::idsEchoExactly()
{
    QFETCH(QByteArray, id);
    const Decoded d = decode(request(id, "a", "{}"));
    QVERIFY(d.request);
    const QJsonValue sent = parseObject("{\"id\":" + id + '}').value(QStringLiteral("id"));

    const QByteArray result = encodeResult(d.request->id, QJsonObject{{QStringLiteral("ok"), true}});
    QCOMPARE(parseObject(result).value(QStringLiteral("id")), sent);
    Error e;
    e.code = ErrorCode::NotFound;
    e.message = QStringLiteral("no such account");
    QCOMPARE(parseObject(encodeError(d.idForError, e)).value(QStringLiteral("id")), sent);
    // Integer ids are written back with the same digits (no 4.5036e+15).
    if (!id.startsWith('"'))
        QVERIFY2(result.contains(QByteArray("\"id\":" + id)), result.constData());
}

void TestJsonRpc::nestingLimit()
{
    QVERIFY(decode(nested(kNestingDepthMax)).request);
    const Decoded deep = decode(nested(kNestingDepthMax + 1));
    QVERIFY(deep.error);
    QCOMPARE(deep.error->code, ErrorCode::InvalidRequest);
    QCOMPARE(deep.error->message, QStringLiteral("nesting deeper than 32 levels"));

    // Far beyond any parser's recursion, within the frame limit: refused before parsing.
    for (const char open : {'[', '{'}) {
        const Decoded d = decode(QByteArray(200000, open));
        QVERIFY(d.error);
        QCOMPARE(d.error->code, ErrorCode::InvalidRequest);
    }
    const Decoded arrays = decode(QByteArray(QByteArray(100000, '[') + QByteArray(100000, ']')));
    QVERIFY(arrays.error);
    QCOMPARE(arrays.error->code, ErrorCode::InvalidRequest);
    // Arrays count like objects: request + params + 15 × [{…}] is 32 levels, one pair more is 34.
    QByteArray mixed = "1";
    for (int i = 0; i < 15; ++i)
        mixed = "[{\"k\":" + mixed + "}]";
    QVERIFY(decode(request("1", "a", "{\"m\":" + mixed + '}')).request);
    mixed = "[{\"k\":" + mixed + "}]";
    QVERIFY(decode(request("1", "a", "{\"m\":" + mixed + '}')).error);
}

void TestJsonRpc::frameSizeLimit()
{
    // A valid request padded with whitespace to exactly the limit, then one byte more.
    QByteArray frame = request("1", "a", "{}");
    frame += QByteArray(kFrameBytesMax - frame.size(), ' ');
    QCOMPARE(frame.size(), kFrameBytesMax);
    QVERIFY(decode(frame).request);
    frame += ' ';
    const Decoded d = decode(frame);
    QVERIFY(d.error);
    QCOMPARE(d.error->code, ErrorCode::InvalidRequest);
    QCOMPARE(d.error->message, QStringLiteral("frame of 262145 bytes exceeds the limit of 262144 bytes"));
    QVERIFY(d.idForError.isNull());

    // The limit is checked before anything else: 8 MiB of garbage is refused by size.
    const Decoded huge = decode(QByteArray(8 * 1024 * 1024, '\xff'));
    QCOMPARE(huge.error->code, ErrorCode::InvalidRequest);
    // A caller's own limit.
    QCOMPARE(decode(request("1", "a", "{}"), 10).error->code, ErrorCode::InvalidRequest);
    const QByteArray big = request("1", "a", "{\"s\":\"" + QByteArray(1024 * 1024, 'A') + "\"}");
    QVERIFY(decode(big, 2 * 1024 * 1024).request);
}

void TestJsonRpc::encodeForms()
{
    QCOMPARE(encodeResult(QJsonValue(7), QJsonObject{{QStringLiteral("balance_fen"), 12345}}),
        QByteArray("{\"id\":7,\"jsonrpc\":\"2.0\",\"result\":{\"balance_fen\":12345}}"));
    QCOMPARE(encodeResult(QJsonValue(QStringLiteral("r")), QJsonValue()),
        QByteArray("{\"id\":\"r\",\"jsonrpc\":\"2.0\",\"result\":null}"));
    QCOMPARE(encodeResult(QJsonValue(qint64(9007199254740991LL)), QJsonArray{1, 2}),
        QByteArray("{\"id\":9007199254740991,\"jsonrpc\":\"2.0\",\"result\":[1,2]}"));

    Error e;
    e.code = ErrorCode::InvalidParams;
    e.message = QStringLiteral("params.amount_fen must be an integer between 100 and 500000");
    e.data.insert(QStringLiteral("field"), QStringLiteral("params.amount_fen"));
    QCOMPARE(encodeError(QJsonValue(3), e),
        QByteArray("{\"error\":{\"code\":-32602,\"data\":{\"field\":\"params.amount_fen\"},"
                   "\"message\":\"params.amount_fen must be an integer between 100 and 500000\"},"
                   "\"id\":3,\"jsonrpc\":\"2.0\"}"));
    Error plain;
    plain.code = ErrorCode::ParseError;
    plain.message = QStringLiteral("frame is not valid UTF-8");
    QCOMPARE(encodeError(QJsonValue(QJsonValue::Null), plain),
        QByteArray("{\"error\":{\"code\":-32700,\"message\":\"frame is not valid UTF-8\"},\"id\":null,"
                   "\"jsonrpc\":\"2.0\"}"));

    QCOMPARE(
        encodeNotification(QStringLiteral("account.balance_changed"), QJsonObject{{QStringLiteral("account_id"), 9}}),
        QByteArray("{\"jsonrpc\":\"2.0\",\"method\":\"account.balance_changed\",\"params\":{\"account_id\":9}}"));
}

void TestJsonRpc::notificationRoundTrip()
{
    const QJsonObject params{{QStringLiteral("text"), QStringLiteral("余额不足 \"quoted\" \\ 😀")},
        {QStringLiteral("list"), QJsonArray{1, QStringLiteral("x"), QJsonObject{}}}};
    const Decoded d = decode(encodeNotification(QStringLiteral("event.push"), params));
    QVERIFY(d.request);
    QVERIFY(d.request->isNotification);
    QCOMPARE(d.request->method, QStringLiteral("event.push"));
    QCOMPARE(d.request->params, params);
}

void TestJsonRpc::errorCodesAreStable()
{
    // The numbers are published: a change here is a protocol change.
    QCOMPARE(int(ErrorCode::ParseError), -32700);
    QCOMPARE(int(ErrorCode::InvalidRequest), -32600);
    QCOMPARE(int(ErrorCode::MethodNotFound), -32601);
    QCOMPARE(int(ErrorCode::InvalidParams), -32602);
    QCOMPARE(int(ErrorCode::InternalError), -32603);
    QCOMPARE(int(ErrorCode::Unauthenticated), -32001);
    QCOMPARE(int(ErrorCode::Forbidden), -32003);
    QCOMPARE(int(ErrorCode::NotFound), -32004);
    QCOMPARE(int(ErrorCode::Conflict), -32009);
    QCOMPARE(int(ErrorCode::RateLimited), -32029);
    QCOMPARE(int(ErrorCode::Locked), -32023);
    QCOMPARE(int(ErrorCode::WrongPin), -32024);
    QCOMPARE(int(ErrorCode::ApprovalRequired), -32030);
    QCOMPARE(int(ErrorCode::Unavailable), -32050);
    QCOMPARE(allErrorCodes().size(), 14);
    QCOMPARE(errorCodeName(ErrorCode::WrongPin), QStringLiteral("wrong_pin"));

    QCOMPARE(errorCodeName(ErrorCode::ParseError), QStringLiteral("parse_error"));
    QCOMPARE(errorCodeName(ErrorCode::InvalidRequest), QStringLiteral("invalid_request"));
    QCOMPARE(errorCodeName(ErrorCode::InvalidParams), QStringLiteral("invalid_params"));
    QCOMPARE(errorCodeName(ErrorCode::Forbidden), QStringLiteral("forbidden"));
    QCOMPARE(errorCodeName(ErrorCode::ApprovalRequired), QStringLiteral("approval_required"));
    QSet<QString> names;
    QSet<int> numbers;
    for (ErrorCode c : allErrorCodes()) {
        const QString name = errorCodeName(c);
        QVERIFY(!names.contains(name));
        QVERIFY(!numbers.contains(int(c)));
        names.insert(name);
        numbers.insert(int(c));
        QVERIFY(errorCodeFromInt(int(c)) == c);
        // ours are in JSON-RPC's server range, theirs in the reserved range
        QVERIFY((int(c) >= -32099 && int(c) <= -32000) || (int(c) >= -32768 && int(c) <= -32600));
    }
    QVERIFY(!errorCodeFromInt(0));
    QVERIFY(!errorCodeFromInt(-32000));
}

void TestJsonRpc::principals()
{
    const QList<Principal> all{Principal::Anonymous, Principal::Kiosk, Principal::Admin, Principal::Operator,
        Principal::Cashier, Principal::Technician, Principal::Auditor};
    const QStringList names{QStringLiteral("anonymous"), QStringLiteral("kiosk"), QStringLiteral("admin"),
        QStringLiteral("operator"), QStringLiteral("cashier"), QStringLiteral("technician"), QStringLiteral("auditor")};
    for (qsizetype i = 0; i < all.size(); ++i) {
        QCOMPARE(principalName(all[i]), names[i]);
        QVERIFY(principalFromName(names[i]) == all[i]);
    }
    QVERIFY(!principalFromName(QStringLiteral("Admin")));
    QVERIFY(!principalFromName(QString()));

    MethodSpec spec;
    spec.name = QStringLiteral("account.recharge");
    spec.params = Schema{integer(QStringLiteral("amount_fen"), 100, 500000)};
    spec.allowed = {Principal::Cashier, Principal::Admin};
    QVERIFY(!spec.audited);
    QVERIFY(check(spec.params, parseObject("{\"amount_fen\":100}")) == std::nullopt);
}

void TestJsonRpc::schemaRules_data()
{
    QTest::addColumn<QByteArray>("params");
    QTest::addColumn<QString>("message"); // empty: accepted
    QTest::addColumn<QString>("field");

    const QString amount = QStringLiteral("params.amount_fen must be an integer between 100 and 500000");
    const QString amountField = QStringLiteral("params.amount_fen");
    const QString note = QStringLiteral("params.note must be a string of 0 to 20 characters");
    const QString noteChars = QStringLiteral("params.note must not contain control characters or invalid Unicode");
    const QString noteField = QStringLiteral("params.note");
    const QString anyInt
        = QStringLiteral("params.any_int must be an integer between -9007199254740991 and 9007199254740991");
    const QString items = QStringLiteral("params.items must be an array of 1 to 3 items");
    auto ok
        = [](const char *name, const QByteArray &params) { QTest::newRow(name) << params << QString() << QString(); };
    auto bad = [](const char *name, const QByteArray &params, const QString &message, const QString &field) {
        QTest::newRow(name) << params << message << field;
    };

    ok("minimal", "{\"amount_fen\":100}");
    ok("upper bound", "{\"amount_fen\":500000}");
    ok("whole number written with .0", "{\"amount_fen\":100.0}");
    ok("everything",
        "{\"amount_fen\":250,\"note\":\"二楼 cash \\\" ok\",\"print\":false,\"channel\":\"wechat\","
        "\"meter_id\":\"AB-1234\",\"payer\":{\"name\":\"张三\",\"age\":150},"
        "\"items\":[{\"meter_id\":\"m1\",\"amount_fen\":1},{\"meter_id\":\"m2\",\"amount_fen\":1000}],"
        "\"any_int\":-9007199254740991,\"tags\":[\"a\",\"bcdef\"],\"long_text\":\"ab\"}");
    ok("note of 20 emoji (code points)", "{\"amount_fen\":100,\"note\":\"" + QByteArray("😀").repeated(20) + "\"}");
    ok("note of 20 CJK characters", "{\"amount_fen\":100,\"note\":\"" + QByteArray("中").repeated(20) + "\"}");
    ok("empty note", "{\"amount_fen\":100,\"note\":\"\"}");
    ok("surrogate pair escaped", "{\"amount_fen\":100,\"note\":\"\\ud83d\\ude00\"}");
    ok("any_int 2^53-1", "{\"amount_fen\":100,\"any_int\":9007199254740991}");
    ok("empty tags", "{\"amount_fen\":100,\"tags\":[]}");
    ok("payer without optional age", "{\"amount_fen\":100,\"payer\":{\"name\":\"x\"}}");
    ok("long text without upper bound", "{\"amount_fen\":100,\"long_text\":\"" + QByteArray(100000, 'y') + "\"}");

    bad("missing required", "{}", QStringLiteral("params.amount_fen is required"), amountField);
    bad("below range", "{\"amount_fen\":99}", amount, amountField);
    bad("above range", "{\"amount_fen\":500001}", amount, amountField);
    bad("negative", "{\"amount_fen\":-100}", amount, amountField);
    bad("integer as a string", "{\"amount_fen\":\"100\"}", amount, amountField);
    bad("fraction", "{\"amount_fen\":100.5}", amount, amountField);
    bad("boolean for integer", "{\"amount_fen\":true}", amount, amountField);
    bad("null for integer", "{\"amount_fen\":null}", amount, amountField);
    bad("1e20", "{\"amount_fen\":1e20}", amount, amountField);
    bad("any_int 2^53", "{\"amount_fen\":100,\"any_int\":9007199254740992}", anyInt, QStringLiteral("params.any_int"));
    bad("any_int -2^53", "{\"amount_fen\":100,\"any_int\":-9007199254740992}", anyInt,
        QStringLiteral("params.any_int"));
    bad("any_int 2^63-1", "{\"amount_fen\":100,\"any_int\":9223372036854775807}", anyInt,
        QStringLiteral("params.any_int"));
    bad("any_int fraction", "{\"amount_fen\":100,\"any_int\":0.5}", anyInt, QStringLiteral("params.any_int"));
    bad("unknown field", "{\"amount_fen\":100,\"amount\":100}", QStringLiteral("unknown field 'params.amount'"),
        QStringLiteral("params.amount"));
    bad("misspelt required field", "{\"amount_fn\":100}", QStringLiteral("unknown field 'params.amount_fn'"),
        QStringLiteral("params.amount_fn"));
    bad("hostile unknown field name", "{\"amount_fen\":100,\"\\u0001ev\\nil\\u202e\":1}",
        QStringLiteral("unknown field 'params.?ev?il\u202e'"), QStringLiteral("params.?ev?il\u202e"));
    bad("very long unknown field name", "{\"amount_fen\":100,\"" + QByteArray(1000, 'k') + "\":1}",
        QStringLiteral("unknown field 'params.") + QString(64, u'k') + QStringLiteral("…'"),
        QStringLiteral("params.") + QString(64, u'k') + QStringLiteral("…"));
    bad("note too long", "{\"amount_fen\":100,\"note\":\"" + QByteArray(21, 'n') + "\"}", note, noteField);
    bad("note of 21 emoji", "{\"amount_fen\":100,\"note\":\"" + QByteArray("😀").repeated(21) + "\"}", note, noteField);
    bad("note null", "{\"amount_fen\":100,\"note\":null}", note, noteField);
    bad("note a number", "{\"amount_fen\":100,\"note\":5}", note, noteField);
    bad("note with a newline", "{\"amount_fen\":100,\"note\":\"a\\nb\"}", noteChars, noteField);
    bad("note with a tab", "{\"amount_fen\":100,\"note\":\"a\\tb\"}", noteChars, noteField);
    bad("note with NUL", "{\"amount_fen\":100,\"note\":\"a\\u0000b\"}", noteChars, noteField);
    bad("note with DEL", "{\"amount_fen\":100,\"note\":\"a\\u007fb\"}", noteChars, noteField);
    bad("note with C1 NEL", "{\"amount_fen\":100,\"note\":\"a\\u0085b\"}", noteChars, noteField);
    bad("note with a lone high surrogate", "{\"amount_fen\":100,\"note\":\"a\\ud800b\"}", noteChars, noteField);
    bad("note ending in a high surrogate", "{\"amount_fen\":100,\"note\":\"a\\ud800\"}", noteChars, noteField);
    bad("note with a lone low surrogate", "{\"amount_fen\":100,\"note\":\"a\\udc00b\"}", noteChars, noteField);
    bad("note with U+FFFD", "{\"amount_fen\":100,\"note\":\"a\\ufffdb\"}", noteChars, noteField);
    bad("long_text too short", "{\"amount_fen\":100,\"long_text\":\"y\"}",
        QStringLiteral("params.long_text must be a string of at least 2 characters"),
        QStringLiteral("params.long_text"));
    bad("boolean as a string", "{\"amount_fen\":100,\"print\":\"true\"}",
        QStringLiteral("params.print must be true or false"), QStringLiteral("params.print"));
    bad("boolean as a number", "{\"amount_fen\":100,\"print\":1}", QStringLiteral("params.print must be true or false"),
        QStringLiteral("params.print"));
    const QString channel = QStringLiteral("params.channel must be one of: cash, wechat, alipay");
    bad("enum value not listed", "{\"amount_fen\":100,\"channel\":\"card\"}", channel,
        QStringLiteral("params.channel"));
    bad("enum value in other case", "{\"amount_fen\":100,\"channel\":\"CASH\"}", channel,
        QStringLiteral("params.channel"));
    bad("enum not a string", "{\"amount_fen\":100,\"channel\":0}", channel, QStringLiteral("params.channel"));
    const QString meter = QStringLiteral("params.meter_id does not have the expected format ([A-Z]{2}-[0-9]{4})");
    bad("pattern: extra character at the end", "{\"amount_fen\":100,\"meter_id\":\"AB-12345\"}", meter,
        QStringLiteral("params.meter_id"));
    bad("pattern: extra character at the start", "{\"amount_fen\":100,\"meter_id\":\"xAB-1234\"}", meter,
        QStringLiteral("params.meter_id"));
    bad("pattern: full-width digits", "{\"amount_fen\":100,\"meter_id\":\"AB-１２３４\"}", meter,
        QStringLiteral("params.meter_id"));
    bad("pattern field too long before the pattern",
        "{\"amount_fen\":100,\"meter_id\":\"" + QByteArray(17, 'A') + "\"}",
        QStringLiteral("params.meter_id must be a string of 1 to 16 characters"), QStringLiteral("params.meter_id"));
    bad("object not an object", "{\"amount_fen\":100,\"payer\":\"x\"}",
        QStringLiteral("params.payer must be an object"), QStringLiteral("params.payer"));
    bad("object as an array", "{\"amount_fen\":100,\"payer\":[]}", QStringLiteral("params.payer must be an object"),
        QStringLiteral("params.payer"));
    bad("nested required missing", "{\"amount_fen\":100,\"payer\":{}}", QStringLiteral("params.payer.name is required"),
        QStringLiteral("params.payer.name"));
    bad("nested out of range", "{\"amount_fen\":100,\"payer\":{\"name\":\"x\",\"age\":151}}",
        QStringLiteral("params.payer.age must be an integer between 0 and 150"), QStringLiteral("params.payer.age"));
    bad("nested unknown", "{\"amount_fen\":100,\"payer\":{\"name\":\"x\",\"role\":\"admin\"}}",
        QStringLiteral("unknown field 'params.payer.role'"), QStringLiteral("params.payer.role"));
    bad("array empty", "{\"amount_fen\":100,\"items\":[]}", items, QStringLiteral("params.items"));
    bad("array too long",
        "{\"amount_fen\":100,\"items\":[{\"meter_id\":\"a\",\"amount_fen\":1},{\"meter_id\":\"a\",\"amount_fen\":1},"
        "{\"meter_id\":\"a\",\"amount_fen\":1},{\"meter_id\":\"a\",\"amount_fen\":1}]}",
        items, QStringLiteral("params.items"));
    bad("array not an array", "{\"amount_fen\":100,\"items\":{}}", items, QStringLiteral("params.items"));
    bad("array element not an object", "{\"amount_fen\":100,\"items\":[{\"meter_id\":\"a\",\"amount_fen\":1},5]}",
        QStringLiteral("params.items[1] must be an object"), QStringLiteral("params.items[1]"));
    bad("array element field out of range",
        "{\"amount_fen\":100,\"items\":[{\"meter_id\":\"a\",\"amount_fen\":1},{\"meter_id\":\"b\",\"amount_fen\":2},"
        "{\"meter_id\":\"c\",\"amount_fen\":0}]}",
        QStringLiteral("params.items[2].amount_fen must be an integer between 1 and 1000"),
        QStringLiteral("params.items[2].amount_fen"));
    bad("array element unknown field", "{\"amount_fen\":100,\"items\":[{\"meter_id\":\"a\",\"amount_fen\":1,\"x\":1}]}",
        QStringLiteral("unknown field 'params.items[0].x'"), QStringLiteral("params.items[0].x"));
    bad("array element missing field", "{\"amount_fen\":100,\"items\":[{\"amount_fen\":1}]}",
        QStringLiteral("params.items[0].meter_id is required"), QStringLiteral("params.items[0].meter_id"));
    bad("array of strings element too long", "{\"amount_fen\":100,\"tags\":[\"ok\",\"toolong\"]}",
        QStringLiteral("params.tags[1] must be a string of 1 to 5 characters"), QStringLiteral("params.tags[1]"));
    bad("array of strings element with a control character", "{\"amount_fen\":100,\"tags\":[\"\\u001b\"]}",
        QStringLiteral("params.tags[0] must not contain control characters or invalid Unicode"),
        QStringLiteral("params.tags[0]"));
    bad("unbounded array not an array", "{\"amount_fen\":100,\"tags\":\"a\"}",
        QStringLiteral("params.tags must be an array of at least 0 items"), QStringLiteral("params.tags"));
    bad("unknown reported before missing", "{\"zzz\":1}", QStringLiteral("unknown field 'params.zzz'"),
        QStringLiteral("params.zzz"));
}

void TestJsonRpc::schemaRules()
{
    QFETCH(QByteArray, params);
    QFETCH(QString, message);
    QFETCH(QString, field);

    const std::optional<Error> error = check(sampleSchema(), parseObject(params));
    if (message.isEmpty()) {
        QVERIFY2(!error, error ? qPrintable(error->message) : "");
        return;
    }
    QVERIFY(error);
    QCOMPARE(error->code, ErrorCode::InvalidParams);
    QCOMPARE(error->message, message);
    QCOMPARE(error->data, QJsonObject({{QStringLiteral("field"), field}}));
}

void TestJsonRpc::schemaBuilders()
{
    const Field f = described(optional(matching(str(QStringLiteral("login"), 2, 64), QStringLiteral("[a-z]+"))),
        QStringLiteral("the operator's login"));
    QCOMPARE(f.name, QStringLiteral("login"));
    QCOMPARE(f.type, FieldType::String);
    QVERIFY(!f.required);
    QCOMPARE(f.min, 2);
    QCOMPARE(f.max, 64);
    QCOMPARE(f.pattern, QStringLiteral("[a-z]+"));
    QCOMPARE(f.description, QStringLiteral("the operator's login"));

    const Field a = array(QStringLiteral("ids"), integer(QString(), 1, 9), 0, 10);
    QCOMPARE(a.type, FieldType::Array);
    QVERIFY(a.items);
    QCOMPARE(a.items->type, FieldType::Integer);
    QVERIFY(boolean(QStringLiteral("b")).required);
    QCOMPARE(enumeration(QStringLiteral("e"), {QStringLiteral("x")}).enumValues, QStringList{QStringLiteral("x")});
    QCOMPARE(object(QStringLiteral("o"), {boolean(QStringLiteral("b"))}).fields.size(), 1);
    QCOMPARE(fieldTypeName(FieldType::Enum), QStringLiteral("enum"));

    // An empty schema accepts only {}.
    QVERIFY(!check(Schema{}, QJsonObject{}));
    QVERIFY(check(Schema{}, parseObject("{\"x\":1}")));
}

void TestJsonRpc::textHelpers()
{
    QCOMPARE(codePointCount(u"a😀中"), 3);
    QCOMPARE(codePointCount(QStringView()), 0);
    QCOMPARE(codePointCount(QString(QChar(0xD800))), 1);
    QVERIFY(!hasForbiddenCharacters(u"张三 😀 \u202e ok"));
    QVERIFY(hasForbiddenCharacters(QString(QString(QChar(0xDC00)) + u'a')));
    QVERIFY(hasForbiddenCharacters(u"x\u007f"));
    QVERIFY(hasForbiddenCharacters(u"\u009f"));
    QVERIFY(!hasForbiddenCharacters(u"\u00a0"));
    QCOMPARE(printable(u"a\nb"), QStringLiteral("a?b"));
    QCOMPARE(printable(u"abcdef", 3), QStringLiteral("abc…"));
    QCOMPARE(printable(u"ab😀", 3), QStringLiteral("ab…")); // never half a surrogate pair
    QCOMPARE(printable(u"ab😀", 4), QStringLiteral("ab😀"));
}

void TestJsonRpc::hostileStrings()
{
    const QList<Hostile> list = loadHostileStrings();
    QVERIFY2(list.size() >= 100, qPrintable(QString::number(list.size())));

    const qsizetype maxChars = 200;
    const Schema schema{str(QStringLiteral("name"), 0, maxChars)};
    const Schema patterned{matching(str(QStringLiteral("name"), 0, maxChars), QStringLiteral("[\\p{L}\\p{N} .'-]*"))};
    int accepted = 0;
    int refused = 0;
    for (const Hostile &h : list) {
        const QByteArray where = "hostile-strings.txt line " + QByteArray::number(h.line);
        const QString text = utf8(h.bytes); // invalid UTF-8 becomes U+FFFD

        // 1. As a params value given directly to the checker.
        const std::optional<Error> e = check(schema, QJsonObject{{QStringLiteral("name"), text}});
        QVERIFY2(oracleAccepts(text, maxChars) == !e, where.constData());
        if (e) {
            QCOMPARE(e->code, ErrorCode::InvalidParams);
            QCOMPARE(e->data.value(QStringLiteral("field")).toString(), QStringLiteral("params.name"));
            ++refused;
        } else {
            ++accepted;
        }
        const std::optional<Error> ep = check(patterned, QJsonObject{{QStringLiteral("name"), text}});
        QVERIFY2(!ep || ep->code == ErrorCode::InvalidParams, where.constData());
        QVERIFY2(!e || ep, where.constData()); // a pattern only ever refuses more

        // 2. In a frame, JSON-escaped: invalid UTF-8 is a ParseError; valid UTF-8 arrives as
        //    exactly the same string and gets the same verdict from the checker; a string too
        //    long for the frame is refused by size.
        const QByteArray frame = request("1", "x.y", "{\"name\":\"" + jsonStringContent(h.bytes) + "\"}");
        const Decoded d = decode(frame);
        if (frame.size() > kFrameBytesMax) {
            QVERIFY2(d.error && d.error->code == ErrorCode::InvalidRequest, where.constData());
        } else if (!QByteArrayView(h.bytes).isValidUtf8()) {
            QVERIFY2(d.error && d.error->code == ErrorCode::ParseError, where.constData());
        } else if (h.bytes.startsWith("\xef\xbb\xbf")) {
            QVERIFY2(d.error && d.error->code == ErrorCode::InvalidRequest, where.constData()); // see jsonrpc.h
        } else {
            QVERIFY2(d.request, d.error ? qPrintable(d.error->message) : where.constData());
            QVERIFY2(d.request->params.value(QStringLiteral("name")).toString() == text, where.constData());
            QVERIFY2(check(schema, d.request->params).has_value() == e.has_value(), where.constData());
        }
        const bool decodable = QByteArrayView(h.bytes).isValidUtf8() && !h.bytes.startsWith("\xef\xbb\xbf");
        const Decoded roomy = decode(frame, 8 * 1024 * 1024); // every line fits in 8 MiB
        QVERIFY2(bool(roomy.request) == decodable, where.constData());
        if (roomy.request)
            QVERIFY2(roomy.request->params.value(QStringLiteral("name")).toString() == text, where.constData());

        // 3. Spliced in raw, unescaped: anything may happen except a crash or an
        //    unnumbered outcome; what decodes must check and encode cleanly.
        const Decoded raw = decode(request("1", "x.y", "{\"name\":\"" + h.bytes + "\"}"));
        if (raw.error) {
            QVERIFY2(
                isOneOf(raw.error->code, {ErrorCode::ParseError, ErrorCode::InvalidRequest, ErrorCode::InvalidParams}),
                where.constData());
            QVERIFY(!parseObject(encodeError(raw.idForError, *raw.error)).isEmpty());
        } else if (!raw.request->isNotification) {
            const std::optional<Error> re = check(schema, raw.request->params);
            QVERIFY(
                !parseObject(re ? encodeError(raw.request->id, *re) : encodeResult(raw.request->id, true)).isEmpty());
        }

        // 4. As an id: echoed exactly, or refused with a null id.
        const Decoded asId = decode(request('"' + jsonStringContent(h.bytes) + '"', "x.y", "{}"));
        if (asId.request) {
            QVERIFY2(asId.request->id.toString() == text, where.constData());
            QCOMPARE(parseObject(encodeResult(asId.request->id, QJsonValue())).value(QStringLiteral("id")),
                QJsonValue(text));
        } else {
            QVERIFY2(isOneOf(asId.error->code, {ErrorCode::ParseError, ErrorCode::InvalidRequest}), where.constData());
            QVERIFY(asId.idForError.isNull());
        }

        // 5. As a method name: only [a-z0-9_.]{1,64} passes.
        const Decoded asMethod = decode(request("2", jsonStringContent(h.bytes), "{}"));
        static const QRegularExpression methodRule(QStringLiteral("\\A[a-z0-9_.]{1,64}\\z"));
        QVERIFY2(bool(asMethod.request) == methodRule.match(text).hasMatch(), where.constData());

        // 6. As a member name: an unknown field, quoted safely in the message.
        const Decoded asKey = decode(request("3", "x.y", "{\"" + jsonStringContent(h.bytes) + "\":1}"));
        if (asKey.request) {
            const std::optional<Error> ke = check(schema, asKey.request->params);
            if (text != QStringLiteral("name")) {
                QVERIFY2(ke && ke->code == ErrorCode::InvalidParams, where.constData());
                QVERIFY2(!hasForbiddenCharacters(ke->message), where.constData());
                QVERIFY2(ke->message.size() < 120, where.constData());
            }
        }
    }
    qInfo("%d hostile strings: %d accepted as text, %d refused", int(list.size()), accepted, refused);
    QVERIFY(accepted > 0 && refused > 0);
}

void TestJsonRpc::randomBytesNeverCrash()
{
    // Mutations of a valid request: every outcome must be a request or a numbered error, and
    // what decodes must survive check() and the encoders. (The fuzz target does this at scale.)
    const QByteArray seed
        = request("17", "account.recharge", "{\"amount_fen\":100,\"items\":[{\"meter_id\":\"a\",\"amount_fen\":1}]}");
    QRandomGenerator rng(20260601);
    const char alphabet[] = "{}[]\":,\\u0123456789.eE-+ \t\nabcdefnulltrue\x00\xff\xc3\xed";
    for (int round = 0; round < 20000; ++round) {
        QByteArray frame = seed;
        const int edits = 1 + int(rng.bounded(4));
        for (int k = 0; k < edits; ++k) {
            const auto pos = qsizetype(rng.bounded(quint32(frame.size() + 1)));
            const char c = alphabet[rng.bounded(quint32(sizeof(alphabet) - 1))];
            switch (rng.bounded(3)) {
            case 0: frame.insert(pos, c); break;
            case 1:
                if (pos < frame.size())
                    frame.remove(pos, 1);
                break;
            default:
                if (pos < frame.size())
                    frame[pos] = c;
                break;
            }
        }
        const Decoded d = decode(frame);
        QVERIFY(bool(d.request) != bool(d.error));
        if (d.error) {
            QVERIFY(errorCodeFromInt(int(d.error->code)));
            QVERIFY(!encodeError(d.idForError, *d.error).isEmpty());
        } else {
            const std::optional<Error> e = check(sampleSchema(), d.request->params);
            if (!d.request->isNotification)
                QVERIFY(!(e ? encodeError(d.request->id, *e) : encodeResult(d.request->id, true)).isEmpty());
        }
    }
}

QTEST_GUILESS_MAIN(TestJsonRpc)
#include "tst_jsonrpc.moc"
