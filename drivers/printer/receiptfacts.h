// A receipt from the backoffice's facts: receipt.get's result (docs/api.md) turned into the
// renderer's ReceiptData in one language — the tariff worded from its facts (name and slot
// prices, 元/kWh or yuan/kWh), each meter as "POINT (SERIAL)", the heading from the site and the
// building, the issuer as kiosk or operator. Used wherever a real receipt is printed: the kiosk
// (kiosk/receipts) and prepayctl receipt --receipt. nullopt and *error (naming the member) when
// the answer lacks what a receipt needs; it computes no money.
#pragma once

#include "receipt.h"

#include <QtCore/QJsonObject>

#include <optional>

namespace prepay::printer {

std::optional<ReceiptData> receiptFromFacts(const QJsonObject &facts, ReceiptLanguage language, QString *error);

// The tariff in words: its name, then the slot prices.
QString tariffWords(const QJsonObject &tariff, ReceiptLanguage language);

} // namespace prepay::printer
