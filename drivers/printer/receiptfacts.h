// A receipt from the backoffice's facts: receipt.get's result (docs/api.md) turned into the
// renderer's ReceiptData in one language — the tariff worded, the meters listed, the issuer
// named. Used wherever a real receipt is printed: the kiosk (kiosk/receipts) and prepayctl. It
// checks the facts it needs and names the first one missing or wrong; it computes no money.
#pragma once

#include "receipt.h"

#include <QtCore/QJsonObject>

#include <optional>

namespace prepay::printer {

std::optional<ReceiptData> receiptFromFacts(const QJsonObject &facts, ReceiptLanguage language, QString *error);

// The tariff in words, e.g. "分时电价 TOU-COM：尖 1.2100 峰 0.9800 平 0.6500 谷 0.3100 元/kWh" or
// "Flat tariff FLAT-RES: 0.6500 CNY/kWh"; "" for a null tariff.
QString tariffWords(const QJsonObject &tariff, ReceiptLanguage language);

} // namespace prepay::printer
