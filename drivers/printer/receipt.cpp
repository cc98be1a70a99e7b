#include "receipt.h"

#include "qr/qrcode.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QTimeZone>
#include <QtGui/QFont>
#include <QtGui/QFontMetricsF>
#include <QtGui/QPageLayout>
#include <QtGui/QPageSize>
#include <QtGui/QPainter>
#include <QtGui/QPdfWriter>

#include <functional>

namespace prepay::printer {

namespace {

constexpr int kDpi = 300;
constexpr double kMmPerInch = 25.4;
const QString kFontFamily = QStringLiteral("WenQuanYi Micro Hei");

double px(double mm)
{
    return mm * kDpi / kMmPerInch;
}

QString yuan(qint64 fen)
{
    const qint64 magnitude = fen < 0 ? -fen : fen;
    return QStringLiteral("%1¥%2.%3")
        .arg(fen < 0 ? QStringLiteral("-") : QString())
        .arg(magnitude / 100)
        .arg(magnitude % 100, 2, 10, QLatin1Char('0'));
}

// The receipt's words in one language.
struct Words
{
    bool zh = true;
    QString t(const char *chinese, const char *english) const
    {
        return zh ? QString::fromUtf8(chinese) : QString::fromUtf8(english);
    }
    QString channel(const QString &code) const
    {
        if (code == u"alipay")
            return t("支付宝", "Alipay");
        if (code == u"wechat")
            return t("微信支付", "WeChat Pay");
        if (code == u"unionpay")
            return t("云闪付（银联）", "UnionPay");
        return t("现金", "Cash");
    }
};

// One thing on the page, drawn top to bottom.
struct Item
{
    enum class Kind { Heading, Subheading, Title, Field, Amount, Rule, Note, Qr, Small };
    Kind kind = Kind::Field;
    QString label;
    QString text;
};

struct Geometry
{
    double width = 0;  // printable width, device units
    double margin = 0; // left/right/top/bottom margin, device units
    double scale = 1;  // font scale: 1 on 80 mm paper, larger on A5/A4
};

QFont font(double points, bool bold, double scale)
{
    QFont f(kFontFamily);
    f.setPointSizeF(points * scale);
    f.setBold(bold);
    f.setStyleStrategy(QFont::PreferAntialias);
    return f;
}

// Lays the items out from y = top; draws them when `painter` is set; returns the height used.
double layOut(const QList<Item> &items, const Geometry &g, QPaintDevice *device, QPainter *painter,
    const std::optional<qr::Matrix> &qr)
{
    double y = 0;
    const double gap = px(1.2);
    const double labelWidth = g.width * 0.34;
    const auto block = [&](const QFont &f, const QRectF &area, int flags, const QString &text) {
        const QFontMetricsF metrics(f, device);
        const QRectF needed = metrics.boundingRect(area, flags, text);
        if (painter) {
            painter->setFont(f);
            painter->drawText(QRectF(area.left(), area.top(), area.width(), needed.height()), flags, text);
        }
        return needed.height();
    };
    // Prose wraps between words (and between CJK characters); an identifier without spaces (a
    // transaction id) may break anywhere rather than run off the paper.
    const auto wrapOf = [](const QString &text) {
        return text.contains(u' ') ? int(Qt::TextWordWrap) : int(Qt::TextWordWrap | Qt::TextWrapAnywhere);
    };
    const int wrap = Qt::TextWordWrap;
    for (const Item &item : items) {
        const QRectF full(g.margin, g.margin + y, g.width, px(400));
        switch (item.kind) {
        case Item::Kind::Heading:
            y += block(font(12, true, g.scale), full, Qt::AlignHCenter | wrap, item.text) + gap * 0.5;
            break;
        case Item::Kind::Subheading:
            y += block(font(8, false, g.scale), full, Qt::AlignHCenter | wrap, item.text) + gap;
            break;
        case Item::Kind::Title:
            y += gap;
            y += block(font(11, true, g.scale), full, Qt::AlignHCenter | wrap, item.text) + gap;
            break;
        case Item::Kind::Field: {
            const QFont f = font(8.5, false, g.scale);
            const double left = block(f, QRectF(full.left(), full.top(), labelWidth, full.height()),
                Qt::AlignLeft | wrap, item.label);
            const double right = block(f,
                QRectF(full.left() + labelWidth, full.top(), g.width - labelWidth, full.height()),
                Qt::AlignRight | wrapOf(item.text), item.text);
            y += qMax(left, right) + gap * 0.6;
            break;
        }
        case Item::Kind::Amount: {
            y += gap * 0.5;
            const double left = block(font(10, true, g.scale),
                QRectF(full.left(), full.top() + px(1.5), labelWidth, full.height()), Qt::AlignLeft | wrap,
                item.label);
            const double right = block(font(16, true, g.scale),
                QRectF(full.left() + labelWidth, full.top(), g.width - labelWidth, full.height()),
                Qt::AlignRight | wrap, item.text);
            y += qMax(left + px(1.5), right) + gap;
            break;
        }
        case Item::Kind::Rule:
            if (painter) {
                QPen pen(Qt::black);
                pen.setWidthF(px(0.25));
                pen.setStyle(Qt::DashLine);
                painter->setPen(pen);
                painter->drawLine(QPointF(g.margin, g.margin + y + gap), QPointF(g.margin + g.width, g.margin + y + gap));
                painter->setPen(Qt::black);
            }
            y += gap * 2;
            break;
        case Item::Kind::Note:
            y += block(font(9, true, g.scale), full, Qt::AlignHCenter | wrap, item.text) + gap;
            break;
        case Item::Kind::Qr: {
            if (!qr)
                break;
            const double side = qMin(g.width * 0.5, px(32) * g.scale);
            const double module = side / (qr->size + 2 * qr::kQuietZoneModules);
            const double left = g.margin + (g.width - side) / 2;
            if (painter) {
                for (int row = 0; row < qr->size; ++row) {
                    for (int col = 0; col < qr->size; ++col) {
                        if (qr->at(col, row))
                            painter->fillRect(QRectF(left + (col + qr::kQuietZoneModules) * module,
                                                  g.margin + y + (row + qr::kQuietZoneModules) * module, module, module),
                                Qt::black);
                    }
                }
            }
            y += side;
            y += block(font(7, false, g.scale), QRectF(full.left(), g.margin + y, g.width, full.height()),
                     Qt::AlignHCenter | wrap, item.text)
                + gap;
            break;
        }
        case Item::Kind::Small:
            y += block(font(7, false, g.scale), full, Qt::AlignHCenter | wrap, item.text) + gap * 0.5;
            break;
        }
    }
    return y;
}

QList<Item> itemsOf(const ReceiptData &d, const Words &w)
{
    QList<Item> items;
    const auto add = [&items](Item::Kind kind, const QString &label, const QString &text) {
        Item item;
        item.kind = kind;
        item.label = label;
        item.text = text;
        items.append(item);
    };
    add(Item::Kind::Heading, {}, d.buildingName);
    QString office = d.officeName;
    if (!d.officePhone.isEmpty())
        office += (office.isEmpty() ? QString() : QStringLiteral("  ")) + w.t("电话 ", "Tel. ") + d.officePhone;
    if (!office.isEmpty())
        add(Item::Kind::Subheading, {}, office);
    const bool refund = d.kind == ReceiptKind::Refund;
    add(Item::Kind::Title, {}, refund ? w.t("退款凭证", "Refund slip") : w.t("充值凭证", "Top-up receipt"));
    add(Item::Kind::Rule, {}, {});
    add(Item::Kind::Field, w.t("凭证号", "Receipt no."), d.receiptNo);
    if (refund && !d.originalReceiptNo.isEmpty())
        add(Item::Kind::Field, w.t("原充值凭证", "Refund of receipt"), d.originalReceiptNo);
    add(Item::Kind::Field, w.t("时间", "Date and time"),
        QDateTime::fromMSecsSinceEpoch(d.atMs, QTimeZone(8 * 3600)).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
    add(Item::Kind::Field, w.t("商铺", "Shop"), d.shopName.isEmpty() ? d.shopNo : d.shopNo + QLatin1Char(' ') + d.shopName);
    if (!d.meters.isEmpty())
        add(Item::Kind::Field, w.t("电表", d.meters.size() > 1 ? "Meters" : "Meter"), d.meters.join(QStringLiteral(", ")));
    add(Item::Kind::Rule, {}, {});
    add(Item::Kind::Amount, refund ? w.t("退款金额", "Refunded") : w.t("充值金额", "Amount"), yuan(d.amountFen));
    add(Item::Kind::Field, refund ? w.t("退回至", "Paid back to") : w.t("支付方式", "Paid with"), w.channel(d.channel));
    if (!d.providerTxnId.isEmpty())
        add(Item::Kind::Field, w.t("交易号", "Transaction"), d.providerTxnId);
    if (d.balanceBeforeFen)
        add(Item::Kind::Field, refund ? w.t("退款前余额", "Balance before") : w.t("充值前余额", "Balance before"),
            yuan(*d.balanceBeforeFen));
    if (d.balanceAfterFen)
        add(Item::Kind::Field, refund ? w.t("退款后余额", "Balance after") : w.t("充值后余额", "Balance after"),
            yuan(*d.balanceAfterFen));
    if (!d.tariff.isEmpty())
        add(Item::Kind::Field, w.t("电价", "Tariff"), d.tariff);
    if (!d.issuedBy.isEmpty())
        add(Item::Kind::Field, d.issuedByKiosk ? w.t("终端", "Kiosk") : w.t("操作员", "Operator"), d.issuedBy);
    if (d.late)
        add(Item::Kind::Note, {},
            w.t("逾期到账：付款在二维码失效后到达，已全额入账", "Late payment credited: it arrived after the QR expired"));
    add(Item::Kind::Rule, {}, {});
    if (!d.verification.isEmpty())
        add(Item::Kind::Qr, {}, w.t("扫码核验本凭证", "Scan to verify this receipt"));
    add(Item::Kind::Small, {}, w.t("请妥善保管本凭证。", "Please keep this receipt."));
    if (!d.officePhone.isEmpty())
        add(Item::Kind::Small, {},
            w.t("补打凭证或有疑问，请联系物业：", "For a reprint or any question, call the office: ") + d.officePhone);
    return items;
}

} // namespace

std::optional<Paper> paperFromCode(QStringView code)
{
    if (code == u"80mm")
        return Paper::Thermal80mm;
    if (code.compare(u"a5", Qt::CaseInsensitive) == 0)
        return Paper::A5;
    if (code.compare(u"a4", Qt::CaseInsensitive) == 0)
        return Paper::A4;
    return std::nullopt;
}

QString paperCode(Paper paper)
{
    switch (paper) {
    case Paper::Thermal80mm: return QStringLiteral("80mm");
    case Paper::A5: return QStringLiteral("a5");
    case Paper::A4: return QStringLiteral("a4");
    }
    return QStringLiteral("80mm");
}

std::optional<ReceiptLanguage> receiptLanguageFromCode(QStringView code)
{
    if (code == u"zh_CN" || code == u"zh")
        return ReceiptLanguage::Chinese;
    if (code == u"en" || code == u"en_US")
        return ReceiptLanguage::English;
    return std::nullopt;
}

ReceiptData sampleReceipt(ReceiptLanguage language)
{
    ReceiptData d;
    d.buildingName = QStringLiteral("海西商务中心 Haixi Business Centre");
    d.officeName = QStringLiteral("海西物业服务中心");
    d.officePhone = QStringLiteral("0591-8765 4321");
    d.receiptNo = QStringLiteral("P0000000042K7Q2M9XZ4");
    d.atMs = QDateTime(QDate(2026, 11, 24), QTime(14, 35, 8), QTimeZone(8 * 3600)).toMSecsSinceEpoch();
    d.shopNo = QStringLiteral("A-1F-105");
    d.shopName = QStringLiteral("茶香阁茶叶店");
    d.meters = {QStringLiteral("A-1F-105 (24050085)")};
    d.amountFen = 10000;
    d.channel = QStringLiteral("wechat");
    d.providerTxnId = QStringLiteral("4200002026112412345678901234");
    d.balanceBeforeFen = -1250;
    d.balanceAfterFen = 8750;
    d.tariff = language == ReceiptLanguage::Chinese ? QStringLiteral("商业分时 峰 1.2000 平 0.8000 谷 0.4000 元/kWh")
                                                    : QStringLiteral("Commercial TOU: peak 1.2000, flat 0.8000, valley 0.4000 yuan/kWh");
    d.issuedBy = QStringLiteral("A座大堂 Kiosk 1");
    d.issuedByKiosk = true;
    d.late = true;
    d.verification = QStringLiteral("PREPAY1:P0000000042K7Q2M9XZ4:10000:9F3A61C2");
    return d;
}

bool renderReceipt(const ReceiptData &data, Paper paper, ReceiptLanguage language, const QString &pdfPath,
    QString *error)
{
    QString problem;
    if (data.receiptNo.isEmpty())
        problem = QStringLiteral("receipt_no: required");
    else if (data.amountFen <= 0)
        problem = QStringLiteral("amount_fen: %1 is not a positive amount").arg(data.amountFen);
    else if (data.channel != u"alipay" && data.channel != u"wechat" && data.channel != u"unionpay"
        && data.channel != u"cash")
        problem = QStringLiteral("channel: '%1' is not alipay, wechat, unionpay or cash").arg(data.channel);
    else if (data.atMs <= 0)
        problem = QStringLiteral("at_ms: required");
    std::optional<qr::Matrix> matrix;
    if (problem.isEmpty() && !data.verification.isEmpty()) {
        matrix = qr::encode(data.verification.toUtf8());
        if (!matrix)
            problem = QStringLiteral("verification: cannot be drawn as a QR code");
    }
    if (!problem.isEmpty()) {
        *error = problem;
        return false;
    }

    Words words;
    words.zh = language == ReceiptLanguage::Chinese;
    const QList<Item> items = itemsOf(data, words);

    QPdfWriter writer(pdfPath);
    writer.setResolution(kDpi);
    writer.setCreator(QStringLiteral("prepay"));
    writer.setTitle(words.t("充值凭证 ", "Receipt ") + data.receiptNo);
    Geometry g;
    QPageSize pageSize;
    if (paper == Paper::Thermal80mm) {
        g.margin = px(4);
        g.width = px(80) - 2 * g.margin;
        // Measure on a long page, then cut the roll to what the receipt needs.
        writer.setPageSize(QPageSize(QSizeF(80, 2000), QPageSize::Millimeter));
        writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter);
        const double height = layOut(items, g, &writer, nullptr, matrix) + 2 * g.margin;
        pageSize = QPageSize(QSizeF(80, height * kMmPerInch / kDpi), QPageSize::Millimeter, QString(), QPageSize::ExactMatch);
    } else {
        pageSize = QPageSize(paper == Paper::A5 ? QPageSize::A5 : QPageSize::A4);
        const double pageWidth = px(pageSize.size(QPageSize::Millimeter).width());
        g.scale = paper == Paper::A5 ? 1.25 : 1.5;
        g.width = px(paper == Paper::A5 ? 100 : 130);
        g.margin = (pageWidth - g.width) / 2;
    }
    writer.setPageSize(pageSize);
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter);
    QPainter painter;
    if (!painter.begin(&writer)) {
        *error = QStringLiteral("%1: cannot be written").arg(pdfPath);
        return false;
    }
    painter.setPen(Qt::black);
    layOut(items, g, &writer, &painter, matrix);
    painter.end();
    if (!QFile::exists(pdfPath)) {
        *error = QStringLiteral("%1: cannot be written").arg(pdfPath);
        return false;
    }
    return true;
}

} // namespace prepay::printer
