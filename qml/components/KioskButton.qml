import QtQuick
import Prepay

// A touch button: at least 15 mm high (20 mm when primary), its words wrapped, never cut.
// `selected` marks the chosen one of a group (a preset, a channel).
Rectangle {
    id: root

    property string text
    property bool primary: false
    property bool selected: false
    property int fontSize: Theme.fontBody

    signal clicked()

    implicitWidth: Math.max(label.implicitWidth + 2 * Theme.spacing, root.primary ? 2 * Theme.touchPrimary : Theme.touchMin)
    implicitHeight: Math.max(label.implicitHeight + 2 * Theme.spacingSmall, root.primary ? Theme.touchPrimary : Theme.touchMin)
    radius: Theme.radius
    color: !root.enabled ? Theme.disabledFill : (root.primary || root.selected) ? Theme.brand : Theme.buttonFill
    border.width: root.primary ? 0 : Math.max(2, Math.round(0.5 * Theme.mm))
    border.color: root.selected ? Theme.brand : Theme.buttonBorder
    opacity: tap.pressed ? 0.7 : 1

    Text {
        id: label
        anchors.centerIn: parent
        width: Math.max(0, root.width - 2 * Theme.spacingSmall)
        text: root.text
        wrapMode: Text.Wrap
        horizontalAlignment: Text.AlignHCenter
        font.family: Theme.fontFamily
        font.pixelSize: root.fontSize
        font.bold: root.primary
        color: !root.enabled ? Theme.disabledText : (root.primary || root.selected) ? Theme.brandText : Theme.buttonText
    }

    TapHandler {
        id: tap
        enabled: root.enabled
        onTapped: root.clicked()
    }
}
