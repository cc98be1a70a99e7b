#include "topupcontroller.h"

#include "format.h"

#include <QtCore/QDateTime>
#include <QtCore/QPointer>
#include <QtCore/QUrl>
#include <QtCore/QUuid>

namespace prepay::kiosk {

namespace {

bool anyRelayOpen(const sync::DirectoryRow &row)
{
    for (const sync::PointState &p : row.points) {
        if (p.relay == QLatin1String("open"))
            return true;
    }
    return false;
}

// States after which this top-up will not be paid through its QR any more.
bool isFinalUnpaid(const QString &state)
{
    return state == QLatin1String("closed") || state == QLatin1String("disputed")
        || state == QLatin1String("expired_unknown") || state == QLatin1String("refunded");
}

} // namespace

TopUpController::TopUpController(QObject *parent)
    : QObject(parent)
{
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &TopUpController::tick);
}

void TopUpController::setBackend(Backend *backend)
{
    if (m_backend)
        disconnect(m_backend, nullptr, this, nullptr);
    m_backend = backend;
    if (m_backend) {
        connect(m_backend, &Backend::topUpChanged, this, &TopUpController::onTopUpChanged);
        connect(m_backend, &Backend::linkStateChanged, this, &TopUpController::changed);
        connect(m_backend, &Backend::profileChanged, this, &TopUpController::changed);
    }
}

qint64 TopUpController::nowMs() const
{
    return m_clock ? m_clock->wallMs() : QDateTime::currentMSecsSinceEpoch();
}

void TopUpController::begin(const sync::DirectoryRow &row)
{
    clear();
    m_shopNo = row.shopNo;
    m_powerWasOff = anyRelayOpen(row);
    Q_EMIT changed();
}

void TopUpController::accountUpdated(const sync::DirectoryRow &row)
{
    if (row.shopNo != m_shopNo)
        return;
    if (m_powerPending && !anyRelayOpen(row)) {
        m_powerPending = false;
        m_powerRestored = true;
        Q_EMIT changed();
    }
}

void TopUpController::clear()
{
    cancelShowing();
    ++m_generation;
    m_timer.stop();
    m_step = Amount;
    m_shopNo.clear();
    m_powerWasOff = false;
    m_powerPending = false;
    m_powerRestored = false;
    m_presetIndex = -1;
    m_custom.clear();
    m_amountFen = 0;
    m_channel.clear();
    m_key.clear();
    m_keyAmountFen = 0;
    m_keyChannel.clear();
    m_busy = false;
    m_createError = {};
    m_topUp = {};
    m_failure.clear();
    m_failureMessage.clear();
    Q_EMIT changed();
    Q_EMIT countdownChanged();
}

bool TopUpController::available() const
{
    return m_backend && m_backend->linkState() == LinkState::Online && !m_backend->profile().channels.isEmpty();
}

QStringList TopUpController::presets() const
{
    QStringList texts;
    for (const qint64 fen : kPresetsFen)
        texts.append(QString::number(fen / 100));
    return texts;
}

QString TopUpController::amountText() const
{
    return m_amountFen > 0 ? format::money(m_amountFen) : QString();
}

QString TopUpController::amountError() const
{
    if (m_amountFen <= 0 || !m_backend)
        return {};
    const KioskProfile profile = m_backend->profile();
    if (m_amountFen < profile.topUpMinFen)
        return QStringLiteral("below_min");
    if (m_amountFen > profile.topUpMaxFen)
        return QStringLiteral("above_max");
    return {};
}

QString TopUpController::minText() const
{
    return m_backend ? format::money(m_backend->profile().topUpMinFen) : QString();
}

QString TopUpController::maxText() const
{
    return m_backend ? format::money(m_backend->profile().topUpMaxFen) : QString();
}

QStringList TopUpController::channels() const
{
    return m_backend ? m_backend->profile().channels : QStringList();
}

QString TopUpController::qrImageUrl() const
{
    if (m_topUp.qrPayload.isEmpty())
        return {};
    return QStringLiteral("image://qr/") + QString::fromLatin1(QUrl::toPercentEncoding(m_topUp.qrPayload));
}

QString TopUpController::countdownText() const
{
    return format::countdown(qint64(secondsLeft()) * 1000);
}

int TopUpController::secondsLeft() const
{
    if (m_topUp.expiresAtMs <= 0)
        return 0;
    const qint64 leftMs = m_topUp.expiresAtMs - nowMs();
    return leftMs > 0 ? int((leftMs + 999) / 1000) : 0;
}

QString TopUpController::newBalanceText() const
{
    return m_topUp.balanceFen ? format::money(*m_topUp.balanceFen) : QString();
}

void TopUpController::choosePreset(int index)
{
    if (m_step != Amount || m_busy || index < 0 || index >= int(std::size(kPresetsFen)))
        return;
    m_presetIndex = index;
    m_custom.clear();
    m_amountFen = kPresetsFen[index];
    Q_EMIT changed();
}

void TopUpController::pressDigit(const QString &digit)
{
    if (m_step != Amount || m_busy || digit.size() != 1 || !digit.at(0).isDigit())
        return;
    if (m_custom.size() >= kCustomDigitsMax || (m_custom.isEmpty() && digit == QLatin1String("0")))
        return;
    m_custom += digit;
    m_presetIndex = -1;
    m_amountFen = m_custom.toLongLong() * 100;
    Q_EMIT changed();
}

void TopUpController::backspace()
{
    if (m_step != Amount || m_busy || m_custom.isEmpty())
        return;
    m_custom.chop(1);
    m_amountFen = m_custom.isEmpty() ? 0 : m_custom.toLongLong() * 100;
    Q_EMIT changed();
}

void TopUpController::confirmAmount()
{
    if (m_step != Amount || m_busy || !amountValid() || !available())
        return;
    m_createError = {};
    setStep(Channel);
}

void TopUpController::chooseChannel(const QString &channel)
{
    if (m_step != Channel || m_busy || !available() || !channels().contains(channel))
        return;
    m_channel = channel;
    if (m_key.isEmpty() || m_keyAmountFen != m_amountFen || m_keyChannel != m_channel) {
        // A new top-up: a new key. The same amount and channel after a failed create keep theirs.
        m_key = QUuid::createUuid().toString(QUuid::WithoutBraces);
        m_keyAmountFen = m_amountFen;
        m_keyChannel = m_channel;
    }
    create();
}

void TopUpController::create()
{
    m_busy = true;
    m_createError = {};
    Q_EMIT changed();
    TopUpRequest request;
    request.shopNo = m_shopNo;
    request.amountFen = m_amountFen;
    request.channel = m_channel;
    request.idempotencyKey = m_key;
    const quint64 generation = m_generation;
    QPointer<TopUpController> self(this);
    m_backend->createTopUp(request, [self, generation](const std::optional<TopUp> &topUp, const BackendError &error) {
        if (!self || self->m_generation != generation)
            return;
        self->m_busy = false;
        if (!topUp) {
            self->m_createError = error;
            if (self->m_createError.code.isEmpty())
                self->m_createError.code = QStringLiteral("refused");
            if (error.code != QLatin1String("unavailable")) {
                // prepayd said no to these params: the key is spent, a retry is a new top-up.
                self->m_key.clear();
            }
            Q_EMIT self->changed();
            return;
        }
        // The key now belongs to this top-up; the next one gets its own.
        self->m_key.clear();
        self->m_topUp = *topUp;
        self->setStep(Qr);
        self->m_timer.start();
        self->apply(*topUp);
    });
}

void TopUpController::onTopUpChanged(const TopUp &topUp)
{
    if (m_topUp.attemptId == 0 || topUp.attemptId != m_topUp.attemptId)
        return;
    if (m_step != Qr && m_step != Failure && m_step != Success)
        return;
    apply(topUp);
}

void TopUpController::apply(const TopUp &topUp)
{
    m_topUp = topUp;
    if (topUp.paid) {
        m_timer.stop();
        if (m_step != Success) {
            m_powerPending = m_powerWasOff;
            if (m_backend) {
                if (const auto row = m_backend->findShop(m_shopNo)) {
                    if (m_powerWasOff && !anyRelayOpen(*row)) {
                        m_powerPending = false;
                        m_powerRestored = true;
                    }
                }
            }
            m_failure.clear();
            m_failureMessage.clear();
            setStep(Success);
        }
        Q_EMIT changed();
        Q_EMIT countdownChanged();
        return;
    }
    if (m_step == Qr && isFinalUnpaid(topUp.state)) {
        fail(topUp.state, topUp.message);
        return;
    }
    Q_EMIT changed();
    Q_EMIT countdownChanged();
}

void TopUpController::tick()
{
    Q_EMIT countdownChanged();
    if (m_step != Qr || m_topUp.expiresAtMs <= 0 || nowMs() < m_topUp.expiresAtMs)
        return;
    // The deadline passed without a payment: close the order now. A payment at the last moment
    // is still credited (prepayd says so with "late"), and then this screen turns to Success.
    if (m_backend && m_topUp.attemptId != 0)
        m_backend->cancelTopUp(m_topUp.attemptId, [](const std::optional<TopUp> &, const BackendError &) {});
    fail(QStringLiteral("timeout"), {});
}

void TopUpController::cancelShowing()
{
    if (m_step == Qr && m_topUp.attemptId != 0 && !m_topUp.paid && m_backend)
        m_backend->cancelTopUp(m_topUp.attemptId, [](const std::optional<TopUp> &, const BackendError &) {});
}

bool TopUpController::back()
{
    if (m_busy)
        return true; // a call is in flight: stay until it answers
    switch (m_step) {
    case Amount:
        return false;
    case Channel:
        m_createError = {};
        setStep(Amount);
        return true;
    case Qr:
    case Failure: {
        cancelShowing();
        ++m_generation;
        m_timer.stop();
        m_topUp = {};
        m_key.clear();
        m_failure.clear();
        m_failureMessage.clear();
        m_createError = {};
        setStep(Amount);
        Q_EMIT countdownChanged();
        return true;
    }
    case Success:
        return false;
    }
    return false;
}

void TopUpController::setStep(Step step)
{
    m_step = step;
    Q_EMIT changed();
}

void TopUpController::fail(const QString &code, const QString &message)
{
    m_timer.stop();
    m_failure = code;
    m_failureMessage = message;
    setStep(Failure);
    Q_EMIT countdownChanged();
}

} // namespace prepay::kiosk
