import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Out of service: the kiosk has never reached the management office (no data at all) and is not
// online. It recovers by itself as soon as the link comes up.
Rectangle {
    id: root

    required property TenantFlow flow

    color: Theme.background

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.margin, 200 * Theme.mm)
        spacing: Theme.spacing

        Text {
            Layout.fillWidth: true
            text: qsTr("This kiosk is out of service")
            wrapMode: Text.Wrap
            horizontalAlignment: Text.AlignHCenter
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontTitle
            font.bold: true
            color: Theme.text
        }
        Text {
            Layout.fillWidth: true
            text: qsTr("It cannot reach the management office yet. It will be back by itself as soon as the connection returns.")
            wrapMode: Text.Wrap
            horizontalAlignment: Text.AlignHCenter
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            color: Theme.textMuted
        }
        Text {
            Layout.fillWidth: true
            visible: root.flow.officePhone !== ""
            text: qsTr("Management office: %1").arg(root.flow.officePhone)
            wrapMode: Text.Wrap
            horizontalAlignment: Text.AlignHCenter
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontHeading
            color: Theme.text
        }
    }
}
