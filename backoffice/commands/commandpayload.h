// The payloads of meter commands (the JSON of meter_commands.payload) and the meter map's blocks
// they stand for. One place decides what a payload may hold, so the store refuses at enqueue
// exactly what the executor could not carry out later: a command that is queued can always be
// turned into its frame.
//
// Every payload is a JSON object with the fields its kind names in command.h, no others;
// integers must be whole numbers inside the register's range. A problem is reported as one line
// naming the field ("payload.prices[2]: …"), for people and for the API's error body.
#pragma once

#include "command.h"

#include "modbus/mapv1.h"

#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <optional>

namespace prepay::commands {

// Empty when `payload` is what `kind` takes; otherwise why not, naming the field.
QString payloadProblem(Kind kind, const QJsonObject &payload);

// SetMode: {"mode": "auto"|"force_on"|"force_off"}.
std::optional<meter::v1::RelayMode> modeFromPayload(const QJsonObject &payload, QString *why = nullptr);
QJsonObject modePayload(meter::v1::RelayMode mode);

// TariffPush: {"version": 1..65535, "prices": [sharp, peak, flat, valley] (0.0001 yuan/kWh, > 0),
// "tou": [[start minute, "sharp"|"peak"|"flat"|"valley"], …]}. The block must also pass
// TariffBlock::fromRegisters (what the meter itself accepts).
std::optional<meter::v1::TariffBlock> tariffFromPayload(const QJsonObject &payload, QString *why = nullptr);
QJsonObject tariffPayload(const meter::v1::TariffBlock &tariff);

// ThresholdPush: every field of the block (see command.h), none left to a default; the block
// must pass ThresholdBlock::fromRegisters.
std::optional<meter::v1::ThresholdBlock> thresholdsFromPayload(const QJsonObject &payload, QString *why = nullptr);
QJsonObject thresholdsPayload(const meter::v1::ThresholdBlock &thresholds);

} // namespace prepay::commands
