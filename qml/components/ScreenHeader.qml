import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// The top of every tenant screen after Attract: Back, the title (wrapped, never cut), the
// language switch and Exit (ends the session and wipes it).
Rectangle {
    id: root

    required property TenantFlow flow
    property string title
    property bool backEnabled: true

    implicitHeight: row.implicitHeight + 2 * Theme.spacingSmall
    color: Theme.surface
    border.color: Theme.surfaceBorder

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.margins: Theme.spacingSmall
        anchors.leftMargin: Theme.spacing
        anchors.rightMargin: Theme.spacing
        spacing: Theme.spacing

        KioskButton {
            text: qsTr("Back")
            enabled: root.backEnabled
            Layout.minimumWidth: 2 * Theme.touchMin
            onClicked: root.flow.back()
        }
        Text {
            Layout.fillWidth: true
            text: root.title
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontHeading
            font.bold: true
            color: Theme.text
        }
        LanguageSwitch {
            flow: root.flow
        }
        KioskButton {
            text: qsTr("Exit")
            Layout.minimumWidth: 2 * Theme.touchMin
            onClicked: root.flow.endSession()
        }
    }
}
