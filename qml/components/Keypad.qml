pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Layouts
import Prepay

// The kiosk's own keypad (tenants only ever type digits and a few letters; Debian's virtual
// keyboard has no Chinese anyway): 1–9, 0, extra keys (letters, "-") and a delete key.
GridLayout {
    id: root

    property var extraKeys: [] // strings
    property string deleteText: qsTr("Delete")

    signal keyPressed(string key)
    signal deletePressed()

    columns: 3
    rowSpacing: Theme.spacingSmall
    columnSpacing: Theme.spacingSmall

    Repeater {
        model: ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
        delegate: KioskButton {
            required property string modelData
            Layout.fillWidth: true
            Layout.preferredWidth: 1
            Layout.preferredHeight: Theme.touchPrimary
            text: modelData
            fontSize: Theme.fontHeading
            onClicked: root.keyPressed(modelData)
        }
    }
    Repeater {
        model: root.extraKeys
        delegate: KioskButton {
            required property string modelData
            Layout.fillWidth: true
            Layout.preferredWidth: 1
            Layout.preferredHeight: Theme.touchPrimary
            text: modelData
            fontSize: Theme.fontHeading
            onClicked: root.keyPressed(modelData)
        }
    }
    KioskButton {
        Layout.fillWidth: true
        Layout.preferredWidth: 1
        Layout.preferredHeight: Theme.touchPrimary
        text: "0"
        fontSize: Theme.fontHeading
        onClicked: root.keyPressed("0")
    }
    KioskButton {
        Layout.fillWidth: true
        Layout.preferredWidth: 1
        Layout.preferredHeight: Theme.touchPrimary
        Layout.columnSpan: (root.extraKeys.length + 10) % 3 === 1 ? 2 : 1
        text: root.deleteText
        onClicked: root.deletePressed()
    }
}
