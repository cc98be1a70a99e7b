#include "tenantflow.h"

#include <QtCore/QLoggingCategory>

namespace prepay::kiosk {

Q_DECLARE_LOGGING_CATEGORY(lcFlow)
Q_LOGGING_CATEGORY(lcFlow, "prepay.kiosk.flow")

TenantFlow::TenantFlow(QObject *parent)
    : QObject(parent)
{
    setClock(nullptr);
    connect(&m_identify, &IdentifyController::confirmed, this, [this](qint64 accountId) {
        if (m_state != Identify)
            return;
        if (m_backend && m_backend->profile().pinRequired) {
            m_identify.clearPin();
            setState(Pin);
        } else {
            openAccount(accountId);
        }
    });
    connect(&m_identify, &IdentifyController::pinAccepted, this, [this] {
        if (m_state == Pin)
            openAccount(m_identify.candidateAccountId());
    });
    connect(&m_topUp, &TopUpController::changed, this, &TenantFlow::onTopUpStep);
    connect(&m_idle, &IdleSupervisor::expired, this, &TenantFlow::endSession);
}

TenantFlow::~TenantFlow()
{
    // Leaving with a QR on screen (the kiosk shuts down): close it with prepayd.
    m_topUp.clear();
}

void TenantFlow::setBackend(Backend *backend)
{
    if (backend == m_backend)
        return;
    if (m_backend)
        disconnect(m_backend, nullptr, this, nullptr);
    wipe();
    m_backend = backend;
    m_identify.setBackend(backend);
    m_account.setBackend(backend);
    m_usage.setBackend(backend);
    m_history.setBackend(backend);
    m_topUp.setBackend(backend);
    m_receipts.setBackend(backend);
    if (m_backend) {
        connect(m_backend, &Backend::linkStateChanged, this, &TenantFlow::onLinkOrDirectory);
        connect(m_backend, &Backend::profileChanged, this, &TenantFlow::profileChanged);
        connect(m_backend, &Backend::directoryChanged, this, &TenantFlow::onDirectoryChanged);
        connect(m_backend, &QObject::destroyed, this, [this] { setBackend(nullptr); });
    }
    setState(outOfService() ? OutOfService : Attract);
    Q_EMIT backendChanged();
    Q_EMIT linkChanged();
    Q_EMIT profileChanged();
}

void TenantFlow::setClock(const Clock *clock)
{
    m_clock = clock ? clock : &m_systemClock;
    m_account.setClock(m_clock);
    m_usage.setClock(m_clock);
    m_topUp.setClock(m_clock);
    m_idle.setClock(m_clock);
}

QString TenantFlow::linkStateCode() const
{
    if (!m_backend)
        return QStringLiteral("offline");
    switch (m_backend->linkState()) {
    case LinkState::Online: return QStringLiteral("online");
    case LinkState::Connecting: return QStringLiteral("connecting");
    case LinkState::Offline: return QStringLiteral("offline");
    }
    return QStringLiteral("offline");
}

bool TenantFlow::online() const
{
    return m_backend && m_backend->linkState() == LinkState::Online;
}

QString TenantFlow::buildingName() const
{
    return m_backend ? m_backend->profile().buildingName : QString();
}

QString TenantFlow::kioskName() const
{
    return m_backend ? m_backend->profile().kioskName : QString();
}

QString TenantFlow::officePhone() const
{
    return m_backend ? m_backend->profile().officePhone : QString();
}

bool TenantFlow::outOfService() const
{
    return !m_backend || (m_backend->lastSyncMs() == 0 && m_backend->linkState() != LinkState::Online);
}

void TenantFlow::begin()
{
    if (m_state != Attract || outOfService())
        return;
    m_identify.clear();
    setState(Identify);
}

void TenantFlow::back()
{
    switch (m_state) {
    case Attract:
    case OutOfService:
        return;
    case Identify:
        endSession();
        return;
    case Pin:
        m_identify.clearPin();
        m_identify.reject();
        setState(Identify);
        return;
    case Account:
        endSession();
        return;
    case Usage:
    case History:
        showAccount();
        return;
    case TopUp:
        if (!m_topUp.back())
            showAccount();
        return;
    }
}

void TenantFlow::endSession()
{
    wipe();
    setState(outOfService() ? OutOfService : Attract);
}

void TenantFlow::showAccount()
{
    if (m_account.accountId() == 0)
        return;
    if (m_state == TopUp) {
        if (m_topUp.busy())
            return; // the create or cancel in flight answers first
        m_topUp.clear();
    }
    m_account.refresh();
    setState(Account);
}

void TenantFlow::showUsage()
{
    if (m_state != Account)
        return;
    m_usage.load(m_account.accountId());
    setState(Usage);
}

void TenantFlow::showHistory()
{
    if (m_state != Account)
        return;
    m_history.load(m_account.shopNo());
    setState(History);
}

void TenantFlow::startTopUp()
{
    if (m_state != Account || !m_topUp.available() || !m_account.row())
        return;
    m_topUp.begin(*m_account.row());
    setState(TopUp);
}

void TenantFlow::setLanguage(const QString &language)
{
    const QString code = language == QLatin1String("en") ? QStringLiteral("en") : kDefaultLanguage;
    if (code == m_language)
        return;
    m_language = code;
    Q_EMIT languageChanged();
}

void TenantFlow::touched()
{
    m_idle.touched();
}

void TenantFlow::setState(State state)
{
    const bool changed = state != m_state;
    if (changed)
        qCDebug(lcFlow) << "state" << m_state << "->" << state;
    m_state = state;
    m_idle.arm(state != Attract && state != OutOfService);
    onTopUpStep();
    if (changed)
        Q_EMIT stateChanged();
}

void TenantFlow::wipe()
{
    m_topUp.clear(); // cancels a QR on screen
    m_identify.clear();
    m_account.clear();
    m_usage.clear();
    m_history.clear();
    m_receipts.clear();
    m_autoPrinted.clear();
    setLanguage(kDefaultLanguage);
}

void TenantFlow::openAccount(qint64 accountId)
{
    m_account.load(accountId);
    setState(Account);
}

void TenantFlow::onLinkOrDirectory()
{
    if (outOfService()) {
        if (m_state != OutOfService) {
            wipe();
            setState(OutOfService);
        }
    } else if (m_state == OutOfService) {
        setState(Attract);
    }
    if (m_state == Account)
        m_account.refresh();
    Q_EMIT linkChanged();
}

void TenantFlow::onDirectoryChanged(const QList<qint64> &accountIds)
{
    onLinkOrDirectory();
    const qint64 id = m_account.accountId();
    if (id == 0 || !accountIds.contains(id))
        return;
    m_account.refresh();
    if (m_state == Usage)
        m_usage.refresh();
    if (const auto &row = m_account.row())
        m_topUp.accountUpdated(*row);
}

void TenantFlow::onTopUpStep()
{
    const bool onQr = m_state == TopUp && m_topUp.step() == TopUpController::Qr;
    m_idle.setIdleMs(onQr ? IdleSupervisor::kIdleQrMs : IdleSupervisor::kIdleDefaultMs);
    // Paid: the receipt prints by itself, once per top-up.
    if (m_topUp.step() == TopUpController::Success && !m_topUp.receiptNo().isEmpty()
        && m_topUp.receiptNo() != m_autoPrinted && m_receipts.available()) {
        m_autoPrinted = m_topUp.receiptNo();
        m_receipts.print(m_autoPrinted, m_language);
    }
}

} // namespace prepay::kiosk
