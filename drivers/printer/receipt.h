// The receipt renderer (issue 9): one receipt — a top-up at the kiosk or the counter, or a
// refund slip — drawn with QPainter into a PDF (QPdfWriter) for 80 mm thermal paper, or A5 / A4
// when the kiosk's printer is an office printer. Chinese or English; the font is WenQuanYi Micro
// Hei, embedded, because its text stays extractable (pdftotext reads every digit back —
// ENVIRONMENT.md §5: Noto CJK loses them), so a receipt can be checked as text.
//
// What a receipt says: the building and its property office, the receipt number (our
// out_trade_no, or the cash sale's / refund's number), the date and time (Beijing), the shop
// and its name, the meter(s), the amount, the channel (Alipay / WeChat Pay / UnionPay / cash),
// the provider's transaction id, the balance before and after, the tariff, the kiosk or the
// operator, "late payment credited" when the payment arrived after the QR had expired, and a QR
// of the verification string. Nothing here decides or computes money: the caller gives the
// figures the backoffice reported; fen are printed as yuan with two decimals.
//
// Qt Gui only (needs a QGuiApplication; offscreen is fine). Deterministic: the same data draws
// the same page, so tests compare it page-as-image and as text with stored references.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace prepay::printer {

enum class ReceiptKind {
    TopUp,  // money in: QR at the kiosk or counter, or cash at the counter
    Refund, // money back to the payer (退电)
};

enum class Paper {
    Thermal80mm, // 80 mm roll, 72 mm printable; as long as the receipt needs
    A5,
    A4,
};
std::optional<Paper> paperFromCode(QStringView code); // "80mm", "a5", "a4"
QString paperCode(Paper paper);

enum class ReceiptLanguage { Chinese, English };
std::optional<ReceiptLanguage> receiptLanguageFromCode(QStringView code); // "zh_CN" / "zh", "en"

struct ReceiptData
{
    ReceiptKind kind = ReceiptKind::TopUp;
    QString buildingName;       // 海西商务中心
    QString officeName;         // the property office that runs the building
    QString officePhone;        // for reprints and questions (may be empty)
    QString receiptNo;          // P…, R…, or the cash sale's number
    QString originalReceiptNo;  // a refund slip: the receipt of the payment it pays back (none
                                // for the cash payout of a closed account)
    qint64 atMs = 0;            // when it was credited (or refunded), UTC ms; printed in Beijing time
    QString shopNo;
    QString shopName;
    QStringList meters;         // metering points / meter serials
    qint64 amountFen = 0;       // > 0
    QString channel;            // "alipay", "wechat", "unionpay", "cash"
    QString providerTxnId;      // the provider's transaction id (empty for cash)
    std::optional<qint64> balanceBeforeFen;
    std::optional<qint64> balanceAfterFen;
    QString tariff;             // the tariff in words (already in the receipt's language)
    QString issuedBy;           // the kiosk's name or the operator's
    bool issuedByKiosk = true;  // labels it "kiosk" or "operator"
    bool late = false;          // paid after the QR expired: credited all the same
    QString verification;       // the QR's content (the backoffice's verification string)
};

// The fixed sample of `prepayctl receipt render --sample` and of the golden tests (its tariff
// words in `language`).
ReceiptData sampleReceipt(ReceiptLanguage language);

// Draws `data` into a new PDF at `pdfPath`. false and *error when the data is incomplete (no
// receipt number, amount ≤ 0, unknown channel — named) or the file cannot be written.
bool renderReceipt(const ReceiptData &data, Paper paper, ReceiptLanguage language, const QString &pdfPath,
    QString *error);

} // namespace prepay::printer
