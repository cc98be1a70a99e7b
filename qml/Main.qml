import QtQuick
import QtQuick.Window
import Prepay
import Prepay.Kiosk

// The kiosk's window: maps TenantFlow's state to a screen, puts the idle countdown over it and
// keeps the UI in the flow's language. Portrait 1080×1920 by default, landscape 1920×1080.
// The app composes the flow in C++ and hands it over as an initial property.
Window {
    id: root

    required property TenantFlow flow
    property bool landscape: false
    property bool highContrast: false

    width: root.landscape ? 1920 : 1080
    height: root.landscape ? 1080 : 1920
    visible: true
    color: Theme.background
    title: qsTr("prepay kiosk")

    Component.onCompleted: {
        Theme.pixelsPerMm = Screen.pixelDensity
        Theme.highContrast = root.highContrast
    }
    onHighContrastChanged: Theme.highContrast = root.highContrast

    LanguageSwitcher {
        language: root.flow.language
    }

    // Every screen exists from the start and only the flow's one is visible: switching is a
    // visibility change, never a component to compile and create while the tenant waits.
    AttractScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.Attract
        flow: root.flow
    }
    IdentifyScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.Identify
        flow: root.flow
    }
    PinScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.Pin
        flow: root.flow
    }
    AccountScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.Account
        flow: root.flow
    }
    UsageScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.Usage
        flow: root.flow
    }
    HistoryScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.History
        flow: root.flow
    }
    TopUpScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.TopUp
        flow: root.flow
    }
    OutOfServiceScreen {
        anchors.fill: parent
        visible: root.flow.state === TenantFlow.OutOfService
        flow: root.flow
    }

    IdleOverlay {
        anchors.fill: parent
        flow: root.flow
    }
}
