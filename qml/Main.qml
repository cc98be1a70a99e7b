pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Window
import Prepay

// The kiosk's window. For now it shows the attract screen only; the tenant flow (issue 8)
// maps the C++ flow state machine's state to a screen here.
Window {
    id: root

    width: 1920
    height: 1080
    visible: true
    color: Theme.background
    title: qsTr("prepay kiosk")

    AttractScreen {
        anchors.fill: parent
    }
}
