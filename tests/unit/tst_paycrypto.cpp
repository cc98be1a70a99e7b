// prepay_paycrypto against the conformance cases C1–C9 of PAYMENT-PROVIDERS.md §5.1, with the
// real vectors of its Appendices A and B as files in tests/data/payments (README there says
// where each comes from). What is checked:
//  - C1 Alipay notification A1 verifies after our form encode → decode; changing an amount,
//    keeping sign_type in the signed set, a wrong `+` decoding or the wrong key each fail;
//  - C2 Alipay response A2 verifies over the raw node; a re-serialised node fails; error nodes,
//    duplicate keys and `\/` escapes in the sign are handled;
//  - C3 the Alipay request signer reproduces A3 byte for byte from PKCS#1 PEM and PKCS#8 bare
//    base64 keys; a one-byte change fails verification;
//  - C4 the Alipay certificate SN of A4's app and Alipay certificates; the root bundle's SN is
//    not covered (no usable copy of that bundle); serial and issuer of the WeChat certificate;
//  - C5 the WeChat signer reproduces B1 and B2, and the Authorization header has its format;
//  - C6 B3 (AES-256) and B4 (AES-128) verify and decrypt, B5 decrypts; flipping a ciphertext,
//    tag, AAD or nonce bit, or the wrong key, is rejected; a re-serialised body fails;
//  - C7 probe signatures and other non-base64 are a MalformedSignature value, never a crash;
//  - C8 fen ↔ yuan strings; C9 the form codec round trip;
//  - key loading outcomes (encrypted, EC, garbage) and strict base64 edge cases.
#include "payments/paycanon.h"
#include "payments/paycrypto.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::payments;

namespace {

using Field = std::pair<QByteArray, QByteArray>;

QByteArray readData(const char *name)
{
    QFile file(QStringLiteral(PREPAY_TEST_DATA_DIR "/payments/") + QLatin1String(name));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read test vector %s", name);
    return file.readAll();
}

// A vector stored as one line of text with a final newline (signatures, bare keys).
QByteArray readLine(const char *name)
{
    QByteArray text = readData(name);
    if (!text.endsWith('\n'))
        qFatal("%s: expected one line ending in a newline", name);
    text.chop(1);
    return text;
}

// Splits a string-to-sign back into fields. Only valid for vectors whose values hold no `&`
// (true of A1 and A3, checked by the signature verifying afterwards).
FormFields splitSignedString(const QByteArray &text)
{
    FormFields fields;
    for (const QByteArray &pair : text.split('&')) {
        const qsizetype equals = pair.indexOf('=');
        fields.append(Field{pair.first(equals), pair.sliced(equals + 1)});
    }
    return fields;
}

QByteArray fieldValue(const FormFields &fields, QByteArrayView key)
{
    for (const auto &[k, v] : fields) {
        if (k == key)
            return v;
    }
    return {};
}

QByteArray flipBit(QByteArray bytes, qsizetype index, int bit = 0)
{
    bytes[index] = static_cast<char>(bytes[index] ^ (1 << bit));
    return bytes;
}

struct Resource
{
    QByteArray ciphertext; // decoded
    QByteArray nonce;
    QByteArray associatedData;
};

Resource resourceOf(const QByteArray &body)
{
    const QJsonObject resource = QJsonDocument::fromJson(body).object().value(QLatin1String("resource")).toObject();
    Resource out;
    const auto decoded = decodeBase64Strict(resource.value(QLatin1String("ciphertext")).toString().toUtf8());
    if (!decoded)
        qFatal("resource ciphertext is not strict base64");
    out.ciphertext = *decoded;
    out.nonce = resource.value(QLatin1String("nonce")).toString().toUtf8();
    out.associatedData = resource.value(QLatin1String("associated_data")).toString().toUtf8();
    return out;
}

} // namespace

class TestPayCrypto : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void vectorFilesAreTheNotesBytes();
    void c1AlipayNotification();
    void c2AlipayResponse();
    void c2AlipayResponseShapes();
    void c3AlipayRequestSigner();
    void c4AlipayCertSn();
    void c4CertificateFields();
    void c5WechatSigner();
    void c6WechatNotifications();
    void c6GcmTampering();
    void c6ShortGcmVector();
    void c7ProbeSignatures_data();
    void c7ProbeSignatures();
    void c8Amounts();
    void c8AmountsRefused_data();
    void c8AmountsRefused();
    void c9FormCodec();
    void c9FormDecodeRefused_data();
    void c9FormDecodeRefused();
    void base64Strict();
    void keyLoading();
    void constantTime();
};

void TestPayCrypto::vectorFilesAreTheNotesBytes()
{
    // The digests the notes give for the vectors: a damaged file fails here, not later.
    QCOMPARE(sha256(readData("a1-string-to-sign.txt")).toHex(),
        QByteArray("f7ddd6b8ed65cde03339b71735ad29e044d8f3ed0e2659c5156d9ed2acaf1f57"));
    QCOMPARE(readData("a1-string-to-sign.txt").size(), 680);
    QCOMPARE(sha256(readData("a3-string-to-sign.txt")).toHex(),
        QByteArray("1f3a22d9f75c8ca52c745d14ecfc76d4f07cc82c64798f1dbdbacb5266c47ed8"));
    QCOMPARE(readData("b2-message.txt").size(), 328);
    QCOMPARE(sha256(readData("b2-message.txt")).toHex(),
        QByteArray("43c4e601dc1fe50f0b1e7ccbc71bb5bd615723f16a151b9ead696b631055c637"));
    QCOMPARE(sha256(readData("b3-body.json")).toHex(),
        QByteArray("ef9498cc68273ea0362170d8ad51439a68575e655fb7e1c80e1b8b24fd118e69"));
    QCOMPARE(readData("b3-plaintext.json").size(), 410);
    QCOMPARE(sha256(readData("b3-plaintext.json")).toHex(),
        QByteArray("974c056d742b6fae58a7d087ab8e5ba4e534954bb055f256f9f60cbd7ad480d8"));
}

void TestPayCrypto::c1AlipayNotification()
{
    const QByteArray signedText = readData("a1-string-to-sign.txt");
    const QByteArray sign = readLine("a1-sign.txt");
    KeyLoadStatus status = KeyLoadStatus::Malformed;
    const PublicKey alipayKey = PublicKey::load(readData("a1-alipay-public-key.txt"), &status);
    QCOMPARE(status, KeyLoadStatus::Loaded);
    QCOMPARE(alipayKey.bits(), 2048);

    // The POST Alipay sent: the signed pairs plus sign and sign_type, in another order,
    // encoded as a form (spaces as `+`, everything else %XX).
    FormFields posted = splitSignedString(signedText);
    std::reverse(posted.begin(), posted.end());
    posted.insert(3, Field{"sign", sign});
    posted.append(Field{"sign_type", "RSA2"});
    const QByteArray body = formEncode(posted);
    QVERIFY(body.contains("subject=%E8%AF%AD%E9%9B%80%E7%A9%BA%E9%97%B4+500%E4%BA%BA%E8%A7%84%E6%A8%A1"));
    QVERIFY(!body.contains(sign)); // its `+` and `/` must be escaped on the wire

    const auto decoded = formDecode(body);
    QVERIFY(decoded);
    QCOMPARE(*decoded, posted);
    QCOMPARE(fieldValue(*decoded, "sign"), sign);
    const auto content = alipayStringToSign(*decoded, AlipaySignScope::Notification);
    QVERIFY(content);
    QCOMPARE(*content, signedText);
    QCOMPARE(verifyRsaSha256(alipayKey, *content, fieldValue(*decoded, "sign")), VerifyStatus::Valid);

    // total_amount 0.10 → 0.11.
    FormFields tampered = *decoded;
    for (auto &field : tampered) {
        if (field.first == "total_amount")
            field.second = "0.11";
    }
    QCOMPARE(verifyRsaSha256(alipayKey, *alipayStringToSign(tampered, AlipaySignScope::Notification), sign),
        VerifyStatus::BadSignature);
    // sign_type kept in the signed set (the request rule applied to a notification).
    const auto withSignType = alipayStringToSign(*decoded, AlipaySignScope::Request);
    QVERIFY(withSignType->contains("&sign_type=RSA2&"));
    QCOMPARE(verifyRsaSha256(alipayKey, *withSignType, sign), VerifyStatus::BadSignature);
    // A decoder that keeps `+` literal: the same as receiving %2B where the space was.
    QByteArray plusKept = body;
    plusKept.replace("+500", "%2B500");
    const auto wronglyDecoded = formDecode(plusKept);
    QVERIFY(wronglyDecoded);
    QCOMPARE(fieldValue(*wronglyDecoded, "subject"), QByteArray("语雀空间+500人规模"));
    QCOMPARE(verifyRsaSha256(alipayKey, *alipayStringToSign(*wronglyDecoded, AlipaySignScope::Notification), sign),
        VerifyStatus::BadSignature);
    // The classic wrong key: our own app public key instead of Alipay's.
    const PublicKey appKey = PublicKey::load(readData("a3-app-public-key.txt"));
    QVERIFY(!appKey.isNull());
    QCOMPARE(verifyRsaSha256(appKey, *content, sign), VerifyStatus::BadSignature);
    // A repeated key is ambiguous and refused.
    FormFields repeated = *decoded;
    repeated.append(Field{"total_amount", "0.10"});
    QVERIFY(!alipayStringToSign(repeated, AlipaySignScope::Notification));
}

void TestPayCrypto::c2AlipayResponse()
{
    const QByteArray raw = readData("a2-response.json");
    const PublicKey alipayKey = PublicKey::load(readData("a2-alipay-public-key.txt"));
    QVERIFY(!alipayKey.isNull());

    const AlipayResponse response = alipayResponseNode(raw, "alipay.open.file.upload");
    QCOMPARE(response.status, AlipayResponse::Status::Found);
    QCOMPARE(
        response.node, QByteArray(R"({"code":"10000","msg":"Success","file_id":"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr"})"));
    QCOMPARE(verifyRsaSha256(alipayKey, response.node, response.sign), VerifyStatus::Valid);

    // Re-serialised: QJsonDocument sorts the keys — the trap of fzlee/alipay#10.
    const QByteArray reserialised
        = QJsonDocument(QJsonDocument::fromJson(response.node).object()).toJson(QJsonDocument::Compact);
    QVERIFY(reserialised != response.node);
    QCOMPARE(verifyRsaSha256(alipayKey, reserialised, response.sign), VerifyStatus::BadSignature);
    // The same keys in the same order with spacing added also fail.
    QByteArray spaced = response.node;
    spaced.replace(",", ", ");
    QCOMPARE(verifyRsaSha256(alipayKey, spaced, response.sign), VerifyStatus::BadSignature);

    // The sign with its `/` escaped as `\/` (legal JSON, and what some gateways send) is
    // unescaped once, and the node is still the raw bytes.
    QByteArray escaped = raw;
    const qsizetype signAt = escaped.indexOf("\"sign\"");
    escaped = escaped.first(signAt) + escaped.sliced(signAt).replace("/", "\\/");
    const AlipayResponse escapedResponse = alipayResponseNode(escaped, "alipay.open.file.upload");
    QCOMPARE(escapedResponse.status, AlipayResponse::Status::Found);
    QCOMPARE(escapedResponse.sign, response.sign);
    QCOMPARE(verifyRsaSha256(alipayKey, escapedResponse.node, escapedResponse.sign), VerifyStatus::Valid);
}

void TestPayCrypto::c2AlipayResponseShapes()
{
    using Status = AlipayResponse::Status;
    const QByteArrayView method("alipay.trade.precreate");
    // Spacing, nesting, braces inside strings and a `\"` escape are all kept byte for byte.
    const QByteArray node
        = R"({ "code" : "10000", "qr_code":"https://qr.alipay.com/x?a={b}", "x":{"y":["}",{"z":"\"}"}]} })";
    const QByteArray body
        = R"({"other":[1,{"a":"}"}],"alipay_trade_precreate_response":)" + node + R"(,"sign":"AAAA"})";
    const AlipayResponse found = alipayResponseNode(body, method);
    QCOMPARE(found.status, Status::Found);
    QCOMPARE(found.node, node);
    QCOMPARE(found.sign, QByteArray("AAAA"));

    const QByteArray unsignedError
        = R"({"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}})";
    QCOMPARE(alipayResponseNode(unsignedError, method).status, Status::ErrorResponse);
    QCOMPARE(alipayResponseNode(R"({"sign":"AAAA"})", method).status, Status::Missing);
    QCOMPARE(alipayResponseNode(R"({"alipay_trade_precreate_response":"text"})", method).status, Status::Malformed);
    QCOMPARE(alipayResponseNode("not json", method).status, Status::Malformed);
    QCOMPARE(alipayResponseNode("[]", method).status, Status::Malformed);
    QCOMPARE(alipayResponseNode("", method).status, Status::Malformed);
    // Two nodes: which did Alipay sign? Refused.
    QCOMPARE(
        alipayResponseNode(
            R"({"alipay_trade_precreate_response":{"code":"40004"},"alipay_trade_precreate_response":{"code":"10000"}})",
            method)
            .status,
        Status::Malformed);
    QCOMPARE(alipayResponseNode(R"({"alipay_trade_precreate_response":{},"error_response":{}})", method).status,
        Status::Malformed);
}

void TestPayCrypto::c3AlipayRequestSigner()
{
    FormFields request;
    request.append(Field{"app_id", "2021000122671080"});
    request.append(Field{"method", "alipay.trade.precreate"});
    request.append(Field{"format", "JSON"});
    request.append(Field{"charset", "utf-8"});
    request.append(Field{"sign_type", "RSA2"});
    request.append(Field{"timestamp", "2024-01-01 12:00:00"});
    request.append(Field{"version", "1.0"});
    request.append(Field{"notify_url", "https://example.com/alipay/notify"});
    request.append(Field{"app_auth_token", ""}); // empty: dropped
    request.append(Field{"biz_content",
        R"({"out_trade_no":"K20240101000001","subject":"Electricity top-up","timeout_express":"5m","total_amount":"88.88"})"});
    const auto content = alipayStringToSign(request, AlipaySignScope::Request);
    QVERIFY(content);
    QCOMPARE(*content, readData("a3-string-to-sign.txt"));

    const QByteArray expected = readLine("a3-sign.txt");
    KeyLoadStatus status = KeyLoadStatus::Malformed;
    const PrivateKey pkcs1 = PrivateKey::load(readData("a3-app-private-key.pem"), &status);
    QCOMPARE(status, KeyLoadStatus::Loaded);
    const PrivateKey pkcs8 = PrivateKey::load(readData("a3-app-private-key-pkcs8.txt"), &status);
    QCOMPARE(status, KeyLoadStatus::Loaded);
    for (const PrivateKey &key : {pkcs1, pkcs8}) {
        const auto signature = signRsaSha256(key, *content);
        QVERIFY(signature);
        QCOMPARE(encodeBase64(*signature), expected);
    }

    // Signed, then sent: sign goes on the wire percent-encoded and comes back intact.
    request.append(Field{"sign", expected});
    const auto back = formDecode(formEncode(request));
    QVERIFY(back);
    QCOMPARE(fieldValue(*back, "sign"), expected);

    const PublicKey appKey = PublicKey::load(readData("a3-app-public-key.txt"));
    QCOMPARE(verifyRsaSha256(appKey, *content, expected), VerifyStatus::Valid);
    QByteArray changed = *content;
    changed.replace("88.88", "88.89");
    QCOMPARE(verifyRsaSha256(appKey, changed, expected), VerifyStatus::BadSignature);
    QCOMPARE(verifyRsaSha256(appKey, *content, encodeBase64(flipBit(*decodeBase64Strict(expected), 100))),
        VerifyStatus::BadSignature);
    QCOMPARE(verifyRsaSha256(PublicKey(), *content, expected), VerifyStatus::NoKey);
    QVERIFY(!signRsaSha256(PrivateKey(), *content));
}

void TestPayCrypto::c4AlipayCertSn()
{
    // A4: the app and Alipay certificates of alipay-sdk-nodejs-all's fixtures, with the issuer,
    // decimal serial and SN the notes give. (The root bundle's SN is not checked: that
    // repository's stored root bundle is AES-encrypted, and the notes do not reproduce it.)
    struct Case
    {
        const char *file;
        const char *issuer;
        const char *serial;
        const char *sn;
    };
    const Case cases[] = {
        {"a4-appCertPublicKey_2021001161683774.crt",
            "CN=Ant Financial Certification Authority Class 1 R1,OU=Certification Authority,O=Ant Financial,C=CN",
            "42701552708448241360226107228231049510", "866efef280dec9137a87d047ac446315"},
        {"a4-alipayCertPublicKey_RSA2.crt",
            "CN=Ant Financial Certification Authority Class 2 R1,OU=Certification Authority,O=Ant Financial,C=CN",
            "42701552432456004857627230056898180491", "7513daaaa48aa3ba2e4018d84402479c"},
    };
    for (const Case &c : cases) {
        KeyLoadStatus status = KeyLoadStatus::Malformed;
        const Certificate cert = Certificate::load(readData(c.file), &status);
        QCOMPARE(status, KeyLoadStatus::Loaded);
        QCOMPARE(cert.issuerRfc2253(), QByteArray(c.issuer));
        QCOMPARE(cert.serialDecimal(), QByteArray(c.serial));
        QCOMPARE(alipayCertSn(cert), QByteArray(c.sn));
        QVERIFY(cert.isRsaSigned());
        QCOMPARE(cert.publicKey().bits(), 2048);
    }
    // A bundle of both, in order (the root SN's joining rule, on certificates we have).
    const QByteArray bundle = readData(cases[0].file) + '\n' + readData(cases[1].file);
    QCOMPARE(alipayRootCertSn(bundle), std::optional<QByteArray>(QByteArray(cases[0].sn) + '_' + cases[1].sn));
}

void TestPayCrypto::c4CertificateFields()
{
    // The WeChat test certificate of Appendix B: the serial the notes give, the issuer as
    // `openssl x509 -issuer -nameopt RFC2253` prints it, and the SN as the MD5 of their
    // concatenation.
    KeyLoadStatus status = KeyLoadStatus::Malformed;
    const Certificate cert = Certificate::load(readData("wechatpay-test-cert.pem"), &status);
    QCOMPARE(status, KeyLoadStatus::Loaded);
    QCOMPARE(cert.serialHex(), QByteArray("D7CE59D1F522D701"));
    QCOMPARE(cert.serialDecimal(), QByteArray::number(Q_UINT64_C(0xD7CE59D1F522D701)));
    QCOMPARE(cert.issuerRfc2253(), QByteArray("O=Default Company Ltd,L=Default City,C=XX"));
    QVERIFY(cert.isRsaSigned());
    QCOMPARE(alipayCertSn(cert), md5Hex("O=Default Company Ltd,L=Default City,C=XX15550465321652639489"));
    QCOMPARE(md5Hex(""), QByteArray("d41d8cd98f00b204e9800998ecf8427e")); // RFC 1321's own test
    QCOMPARE(cert.publicKey().spkiDer(), PublicKey::load(readData("wechatpay-test-public-key.pem")).spkiDer());

    // A bundle of the same certificate twice, and a bundle with a broken block.
    const QByteArray pem = readData("wechatpay-test-cert.pem");
    QCOMPARE(alipayRootCertSn(QByteArray(pem + pem)),
        std::optional<QByteArray>(alipayCertSn(cert) + '_' + alipayCertSn(cert)));
    QVERIFY(!alipayRootCertSn(QByteArray(pem + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")));
    QVERIFY(!alipayRootCertSn(""));
    QVERIFY(Certificate::load("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").isNull());
    QVERIFY(Certificate().serialHex().isEmpty());
}

void TestPayCrypto::c5WechatSigner()
{
    KeyLoadStatus status = KeyLoadStatus::Malformed;
    const PrivateKey key = PrivateKey::load(readData("wechatpay-test-private-key.pem"), &status);
    QCOMPARE(status, KeyLoadStatus::Loaded);

    const auto b1 = signRsaSha256(key, "source");
    QVERIFY(b1);
    QCOMPARE(encodeBase64(*b1), readLine("b1-sign.txt"));

    const auto message = wechatRequestMessage("POST", "/v3/pay/transactions/native", "1704081600",
        "593BEC0C930BF1AFEB40B4A08C8FB242", readData("b2-body.json"));
    QVERIFY(message);
    QCOMPARE(*message, readData("b2-message.txt"));
    const auto b2 = signRsaSha256(key, *message);
    QVERIFY(b2);
    QCOMPARE(encodeBase64(*b2), readLine("b2-sign.txt"));

    WechatAuthorization auth;
    auth.mchid = "1230000109";
    auth.nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
    auth.timestamp = "1704081600";
    auth.serialNo = "D7CE59D1F522D701";
    auth.signature = encodeBase64(*b2);
    QCOMPARE(*wechatAuthorizationHeader(auth),
        "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\","
        "timestamp=\"1704081600\",serial_no=\"D7CE59D1F522D701\",signature=\""
            + readLine("b2-sign.txt") + '"');
    auth.mchid = "1230000109\",x=\"y";
    QVERIFY(!wechatAuthorizationHeader(auth));
    auth.mchid.clear();
    QVERIFY(!wechatAuthorizationHeader(auth));

    // GET: empty body, the last \n still there.
    QCOMPARE(*wechatRequestMessage("GET", "/v3/pay/transactions/out-trade-no/K1?mchid=1230000109", "1", "n", ""),
        QByteArray("GET\n/v3/pay/transactions/out-trade-no/K1?mchid=1230000109\n1\nn\n\n"));
    QVERIFY(!wechatRequestMessage("post", "/v3", "1", "n", ""));
    QVERIFY(!wechatRequestMessage("POST", "v3", "1", "n", ""));
    QVERIFY(!wechatRequestMessage("POST", "/v3", "1a", "n", ""));
    QVERIFY(!wechatRequestMessage("POST", "/v3", "1", "n\nx", ""));
    QVERIFY(!wechatResponseMessage("", "n", ""));
    QVERIFY(!wechatResponseMessage("1", "", ""));
    QCOMPARE(*wechatResponseMessage("1", "n", ""), QByteArray("1\nn\n\n")); // a 204
}

void TestPayCrypto::c6WechatNotifications()
{
    const Certificate cert = Certificate::load(readData("wechatpay-test-cert.pem"));
    const PublicKey platformKey = cert.publicKey();
    QVERIFY(!platformKey.isNull());

    // B3: TRANSACTION.SUCCESS, AES-256-GCM.
    const QByteArray b3 = readData("b3-body.json");
    const auto b3Message = wechatResponseMessage("1704081691", "fcb7f2b9c1c54f8e9a0d3e2b7c6a5d41", b3);
    QVERIFY(b3Message);
    QCOMPARE(
        sha256(*b3Message).toHex(), QByteArray("60428e2461abfa08ea22b5664d542d5db78de356b89b99cc2a3878b455664585"));
    QCOMPARE(verifyRsaSha256(platformKey, *b3Message, readLine("b3-signature.txt")), VerifyStatus::Valid);
    const Resource r3 = resourceOf(b3);
    QCOMPARE(r3.ciphertext.last(gcmTagBytes).toHex(), QByteArray("f3a58ef091f89c09f0ba5c7d32e3ef66"));
    const GcmOpened opened3
        = aesGcmOpen("KioskSandboxAPIv3Key0123456789ab", r3.nonce, r3.associatedData, r3.ciphertext);
    QCOMPARE(opened3.status, GcmStatus::Opened);
    QCOMPARE(opened3.plaintext, readData("b3-plaintext.json"));
    // The body re-serialised (same JSON, keys sorted) no longer verifies.
    const QByteArray reserialised = QJsonDocument::fromJson(b3).toJson(QJsonDocument::Compact);
    QVERIFY(reserialised != b3);
    QCOMPARE(verifyRsaSha256(platformKey,
                 *wechatResponseMessage("1704081691", "fcb7f2b9c1c54f8e9a0d3e2b7c6a5d41", reserialised),
                 readLine("b3-signature.txt")),
        VerifyStatus::BadSignature);
    // Another timestamp in the header: fails.
    QCOMPARE(verifyRsaSha256(platformKey, *wechatResponseMessage("1704081692", "fcb7f2b9c1c54f8e9a0d3e2b7c6a5d41", b3),
                 readLine("b3-signature.txt")),
        VerifyStatus::BadSignature);

    // B4: wechatpay-go's own notification, a 16-byte APIv3 key, so AES-128-GCM.
    const QByteArray b4 = readData("b4-body.json");
    const auto b4Message = wechatResponseMessage("1624523846", "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz", b4);
    QCOMPARE(b4Message->size(), 613);
    QCOMPARE(
        sha256(*b4Message).toHex(), QByteArray("d2c90663606e98fc711012c768a5150ff0f953e4bccecc69395f4fe977dc4257"));
    QCOMPARE(verifyRsaSha256(platformKey, *b4Message, readLine("b4-signature.txt")), VerifyStatus::Valid);
    const Resource r4 = resourceOf(b4);
    QCOMPARE(r4.nonce, QByteArray("Kj7QIyUiYx1q"));
    QCOMPARE(r4.associatedData, QByteArray("payscore"));
    const GcmOpened opened4 = aesGcmOpen("testMchAPIv3Key0", r4.nonce, r4.associatedData, r4.ciphertext);
    QCOMPARE(opened4.status, GcmStatus::Opened);
    QCOMPARE(opened4.plaintext, readData("b4-plaintext.json"));
}

void TestPayCrypto::c6GcmTampering()
{
    const Resource r = resourceOf(readData("b3-body.json"));
    const QByteArray key("KioskSandboxAPIv3Key0123456789ab");
    QCOMPARE(aesGcmOpen(key, r.nonce, r.associatedData, r.ciphertext).status, GcmStatus::Opened);
    auto rejected = [&](const QByteArray &k, const QByteArray &n, const QByteArray &aad, const QByteArray &c) {
        const GcmOpened opened = aesGcmOpen(k, n, aad, c);
        return opened.status == GcmStatus::Rejected && opened.plaintext.isEmpty();
    };
    QVERIFY(rejected(key, r.nonce, r.associatedData, flipBit(r.ciphertext, 0))); // ciphertext
    QVERIFY(
        rejected(key, r.nonce, r.associatedData, flipBit(r.ciphertext, r.ciphertext.size() - 20, 7))); // ciphertext end
    QVERIFY(rejected(key, r.nonce, r.associatedData, flipBit(r.ciphertext, r.ciphertext.size() - 1))); // tag
    QVERIFY(rejected(key, r.nonce, flipBit(r.associatedData, 0), r.ciphertext));                       // AAD
    QVERIFY(rejected(key, r.nonce, QByteArray(), r.ciphertext));                                       // AAD dropped
    QVERIFY(rejected(key, flipBit(r.nonce, 11), r.associatedData, r.ciphertext));                      // nonce
    QVERIFY(rejected(flipBit(key, 31), r.nonce, r.associatedData, r.ciphertext));                      // key
    // Without the tag (the classic bug's input) it is too short to be anything but rejected.
    QVERIFY(rejected(key, r.nonce, r.associatedData, r.ciphertext.first(r.ciphertext.size() - 1)));
    QCOMPARE(aesGcmOpen(key, r.nonce, r.associatedData, r.ciphertext.first(15)).status, GcmStatus::TooShort);
    QCOMPARE(aesGcmOpen(key.first(24), r.nonce, r.associatedData, r.ciphertext).status, GcmStatus::BadKeyLength);
    QCOMPARE(aesGcmOpen(key, "short", r.associatedData, r.ciphertext).status, GcmStatus::BadNonceLength);
}

void TestPayCrypto::c6ShortGcmVector()
{
    // B5: wechatpay-go's AES test (16-byte key).
    const auto ciphertext = decodeBase64Strict("FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC");
    QVERIFY(ciphertext);
    const GcmOpened opened
        = aesGcmOpen("testAPIv3Key0000", "wCq51qZv4Yfg", "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8", *ciphertext);
    QCOMPARE(opened.status, GcmStatus::Opened);
    QCOMPARE(opened.plaintext, QByteArray("Hello World"));
    QCOMPARE(aesGcmOpen("testAPIv3Key1111", "wCq51qZv4Yfg", "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8", *ciphertext).status,
        GcmStatus::Rejected);
}

void TestPayCrypto::c7ProbeSignatures_data()
{
    QTest::addColumn<QByteArray>("signature");
    QTest::addColumn<int>("expected");
    const int malformed = static_cast<int>(VerifyStatus::MalformedSignature);
    QTest::newRow("probe") << QByteArray("WECHATPAY/SIGNTEST/") << malformed;
    QTest::newRow("probe with junk") << QByteArray("WECHATPAY/SIGNTEST/dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=") << malformed;
    QTest::newRow("empty") << QByteArray() << malformed;
    QTest::newRow("padding only") << QByteArray("====") << malformed;
    QTest::newRow("valid base64, too short") << QByteArray("c291cmNl") << malformed;
    QTest::newRow("url-safe alphabet") << readLine("b3-signature.txt").replace('+', '-').replace('/', '_') << malformed;
    QTest::newRow("trailing newline") << readLine("b3-signature.txt") + '\n' << malformed;
    QTest::newRow("plus decoded as space") << readLine("b3-signature.txt").replace('+', ' ') << malformed;
    QTest::newRow("truncated") << readLine("b3-signature.txt").chopped(4) << malformed;
    QTest::newRow("one more quantum") << readLine("b3-signature.txt") + "AAAA" << malformed;
    QTest::newRow("nul bytes") << QByteArray(344, '\0') << malformed;
    QTest::newRow("huge") << QByteArray(1 << 20, 'A') << malformed;
    QTest::newRow("well formed, wrong bytes")
        << encodeBase64(flipBit(*decodeBase64Strict(readLine("b3-signature.txt")), 0))
        << static_cast<int>(VerifyStatus::BadSignature);
}

void TestPayCrypto::c7ProbeSignatures()
{
    QFETCH(QByteArray, signature);
    QFETCH(int, expected);
    const PublicKey key = PublicKey::load(readData("wechatpay-test-public-key.pem"));
    const auto message
        = wechatResponseMessage("1704081691", "fcb7f2b9c1c54f8e9a0d3e2b7c6a5d41", readData("b3-body.json"));
    QCOMPARE(static_cast<int>(verifyRsaSha256(key, *message, signature)), expected);
}

void TestPayCrypto::c8Amounts()
{
    QCOMPARE(yuanFromFen(Money::fromFen(1)), QByteArray("0.01"));
    QCOMPARE(yuanFromFen(Money::fromFen(8888)), QByteArray("88.88"));
    QCOMPARE(yuanFromFen(Money::fromFen(10'000'000'000)), QByteArray("100000000.00"));
    QCOMPARE(yuanFromFen(Money::fromFen(0)), QByteArray("0.00"));
    QCOMPARE(yuanFromFen(Money::fromFen(10)), QByteArray("0.10"));
    QCOMPARE(yuanFromFen(Money::fromFen(100)), QByteArray("1.00"));

    QCOMPARE(fenFromYuan("0.01"), std::optional<Money>(Money::fromFen(1)));
    QCOMPARE(fenFromYuan("88.88"), std::optional<Money>(Money::fromFen(8888)));
    QCOMPARE(fenFromYuan("100000000.00"), std::optional<Money>(Money::fromFen(10'000'000'000)));
    QCOMPARE(fenFromYuan("0.10"), std::optional<Money>(Money::fromFen(10)));
    QCOMPARE(fenFromYuan("0.1"), std::optional<Money>(Money::fromFen(10)));
    QCOMPARE(fenFromYuan("12"), std::optional<Money>(Money::fromFen(1200)));
    QCOMPARE(fenFromYuan("999999999999.99"), std::optional<Money>(Money::fromFen(99'999'999'999'999)));
    for (qint64 fen : {qint64(0), qint64(7), qint64(99), qint64(12345), qint64(99'999'999'999'999)})
        QCOMPARE(fenFromYuan(yuanFromFen(Money::fromFen(fen))), std::optional<Money>(Money::fromFen(fen)));
}

void TestPayCrypto::c8AmountsRefused_data()
{
    QTest::addColumn<QByteArray>("text");
    for (const char *text :
        {"1e2", "0.001", "-1.00", " 1.00", "1,00", "1.00 ", "+1.00", "1.", ".5", "", ".", "1..0", "1.0.0", "0x10",
            "1 000.00", "１.００", "¥1.00", "1.00元", "NaN", "inf", "1000000000000.00", "99999999999999999999"}) {
        QTest::newRow(text) << QByteArray(text);
    }
}

void TestPayCrypto::c8AmountsRefused()
{
    QFETCH(QByteArray, text);
    QVERIFY(!fenFromYuan(text));
}

void TestPayCrypto::c9FormCodec()
{
    const QByteArray sign = readLine("a1-sign.txt"); // holds `+`, `/` and `=`
    const FormFields fields = {
        {"plus", "a+b"},
        {"slash", "a/b"},
        {"equals", "a=b=="},
        {"amp", "a&b"},
        {"percent", "100%25 %"},
        {"space", " a  b "},
        {"chinese", "语雀空间 500人规模"},
        {"empty", ""},
        {"sign", sign},
        {"plus", "repeated key kept"},
        {"symbols", "~!*'();:@$,?#[]\"<>\\^`{|}"},
    };
    const QByteArray body = formEncode(fields);
    QCOMPARE(formEncodeComponent("a+b c/d=e&f%g~h"), QByteArray("a%2Bb+c%2Fd%3De%26f%25g~h"));
    QVERIFY(!body.contains(' '));
    const auto decoded = formDecode(body);
    QVERIFY(decoded);
    QCOMPARE(*decoded, fields);
    QCOMPARE(fieldValue(*decoded, "sign"), sign);

    // Decoding rules: `+` is a space, %2B is `+`, hex in either case, `=` after the first is data.
    const auto plain = formDecode("a=x+y&b=x%2By&c=%e8%af%ad&d=k=v&e=");
    QVERIFY(plain);
    const FormFields expected = {{"a", "x y"}, {"b", "x+y"}, {"c", "语"}, {"d", "k=v"}, {"e", ""}};
    QCOMPARE(*plain, expected);
    QCOMPARE(formDecode("")->size(), 0);
}

void TestPayCrypto::c9FormDecodeRefused_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("no equals") << QByteArray("a");
    QTest::newRow("empty key") << QByteArray("=1");
    QTest::newRow("empty field") << QByteArray("a=1&&b=2");
    QTest::newRow("trailing ampersand") << QByteArray("a=1&");
    QTest::newRow("lone percent") << QByteArray("a=%");
    QTest::newRow("one hex digit") << QByteArray("a=%4");
    QTest::newRow("not hex") << QByteArray("a=%G1");
    QTest::newRow("literal space") << QByteArray("a=x y");
    QTest::newRow("newline") << QByteArray("a=x\ny");
    QTest::newRow("raw utf-8") << QByteArray("a=语");
    QTest::newRow("bad utf-8") << QByteArray("a=%E8%AF");
    QTest::newRow("overlong utf-8") << QByteArray("a=%C0%AF");
    QTest::newRow("too large") << QByteArray("a=") + QByteArray(formBodyBytesMax, 'x');
    QByteArray many;
    for (int i = 0; i <= formFieldsMax; ++i)
        many += (i != 0 ? "&k" : "k") + QByteArray::number(i) + "=v";
    QTest::newRow("too many fields") << many;
}

void TestPayCrypto::c9FormDecodeRefused()
{
    QFETCH(QByteArray, body);
    QVERIFY(!formDecode(body));
}

void TestPayCrypto::base64Strict()
{
    QCOMPARE(decodeBase64Strict(""), std::optional<QByteArray>(QByteArray()));
    QCOMPARE(decodeBase64Strict("Zg=="), std::optional<QByteArray>(QByteArray("f")));
    QCOMPARE(decodeBase64Strict("Zm8="), std::optional<QByteArray>(QByteArray("fo")));
    QCOMPARE(decodeBase64Strict("Zm9v"), std::optional<QByteArray>(QByteArray("foo")));
    QCOMPARE(decodeBase64Strict("+/+/"), std::optional<QByteArray>(QByteArray("\xfb\xff\xbf")));
    for (const char *bad : {"Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm=v", " Zm9v", "Zm9v\n", "Zm 9v", "-_-_",
             "Zm9v=", "Zm9\xff", "=Zm9"}) {
        QVERIFY2(!decodeBase64Strict(bad), bad);
    }
    // Round trip over every byte value.
    QByteArray all;
    for (int i = 0; i < 256; ++i)
        all.append(static_cast<char>(i));
    for (qsizetype n = 0; n <= all.size(); n += 37)
        QCOMPARE(decodeBase64Strict(encodeBase64(all.first(n))), std::optional<QByteArray>(all.first(n)));
}

void TestPayCrypto::keyLoading()
{
    KeyLoadStatus status = KeyLoadStatus::Loaded;
    // The PKCS#1 PEM's body without armour is Alipay's bare form; it loads the same key.
    QByteArray pkcs1Bare = readData("a3-app-private-key.pem");
    pkcs1Bare.replace("-----BEGIN RSA PRIVATE KEY-----", "").replace("-----END RSA PRIVATE KEY-----", "");
    QVERIFY(!PrivateKey::load(pkcs1Bare, &status).isNull());
    QCOMPARE(status, KeyLoadStatus::Loaded);
    QCOMPARE(encodeBase64(*signRsaSha256(PrivateKey::load(pkcs1Bare), readData("a3-string-to-sign.txt"))),
        readLine("a3-sign.txt"));
    // Public keys: PEM and bare base64 give the same key.
    QByteArray wechatBare = readData("wechatpay-test-public-key.pem");
    wechatBare.replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "");
    QCOMPARE(
        PublicKey::load(wechatBare).spkiDer(), PublicKey::load(readData("wechatpay-test-public-key.pem")).spkiDer());

    QVERIFY(PrivateKey::load("not a key", &status).isNull());
    QCOMPARE(status, KeyLoadStatus::NotPemOrBase64);
    QVERIFY(PrivateKey::load("", &status).isNull());
    QCOMPARE(status, KeyLoadStatus::NotPemOrBase64);
    QVERIFY(PrivateKey::load("AAAA", &status).isNull());
    QCOMPARE(status, KeyLoadStatus::Malformed);
    // A private key where a public one is expected, and the other way round.
    QVERIFY(PublicKey::load(readData("a3-app-private-key.pem"), &status).isNull());
    QCOMPARE(status, KeyLoadStatus::Malformed);
    QVERIFY(PrivateKey::load(readData("wechatpay-test-public-key.pem"), &status).isNull());
    QCOMPARE(status, KeyLoadStatus::Malformed);
    // The valid DER with a byte appended is not the same object.
    QVERIFY(PublicKey::load(encodeBase64(QByteArray(PublicKey::load(wechatBare).spkiDer() + '\0')), &status).isNull());
    QCOMPARE(status, KeyLoadStatus::Malformed);
    // An EC key (generated for this test) is not RSA.
    QVERIFY(PrivateKey::load(readData("ec-p256-key.pem"), &status).isNull());
    QCOMPARE(status, KeyLoadStatus::NotRsa);
    // Legacy PEM encryption headers and encrypted PKCS#8 are refused, never prompted for.
    QByteArray legacy = readData("wechatpay-test-private-key.pem");
    legacy.replace("-----BEGIN PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
        "AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n");
    QVERIFY(PrivateKey::load(legacy, &status).isNull());
    QCOMPARE(status, KeyLoadStatus::Encrypted);
    QByteArray pkcs8 = readData("wechatpay-test-private-key.pem");
    pkcs8.replace("PRIVATE KEY-----", "ENCRYPTED PRIVATE KEY-----");
    QVERIFY(PrivateKey::load(pkcs8, &status).isNull());
    QCOMPARE(status, KeyLoadStatus::Encrypted);
}

void TestPayCrypto::constantTime()
{
    QVERIFY(constantTimeEquals("", ""));
    QVERIFY(constantTimeEquals("abc", "abc"));
    QVERIFY(!constantTimeEquals("abc", "abd"));
    QVERIFY(!constantTimeEquals("abc", "ab"));
    QVERIFY(!constantTimeEquals("", "a"));
}

QTEST_GUILESS_MAIN(TestPayCrypto)
#include "tst_paycrypto.moc"
