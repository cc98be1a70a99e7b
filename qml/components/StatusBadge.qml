import QtQuick
import Prepay

// The account's status in colour AND words (the colour alone never carries the meaning).
Rectangle {
    id: root

    required property string status

    readonly property color statusColor: {
        switch (root.status) {
        case "normal": return Theme.statusNormal
        case "alarm1": return Theme.statusAlarm1
        case "alarm2": return Theme.statusAlarm2
        case "arrears": return Theme.statusArrears
        case "force_on": return Theme.statusForceOn
        default: return Theme.statusOffline
        }
    }
    readonly property string words: {
        switch (root.status) {
        case "normal": return qsTr("Normal")
        case "alarm1": return qsTr("Low balance — please top up soon")
        case "alarm2": return qsTr("Very low balance — top up now to keep the power on")
        case "arrears": return qsTr("In arrears — the power is off until you top up")
        case "force_on": return qsTr("In arrears — the power is kept on by the management office")
        case "offline": return qsTr("Meter not answering — figures may be behind")
        case "not_opened": return qsTr("Account not opened yet")
        default: return ""
        }
    }

    implicitWidth: label.implicitWidth + 2 * Theme.spacing
    implicitHeight: Math.max(Theme.touchMin, label.implicitHeight + 2 * Theme.spacingSmall)
    radius: Theme.radius
    color: root.statusColor

    Text {
        id: label
        anchors.centerIn: parent
        width: Math.max(0, root.width - 2 * Theme.spacing)
        text: root.words
        wrapMode: Text.Wrap
        horizontalAlignment: Text.AlignHCenter
        font.family: Theme.fontFamily
        font.pixelSize: Theme.fontBody
        font.bold: true
        color: Theme.statusText
    }
}
