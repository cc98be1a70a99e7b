pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Usage bars from a UsageBarModel: one bar per day or month, its height the period's energy
// against the largest bar; stacked by TOU slot when `touSplit`. A period without readings is a
// gap — an empty dashed slot with no bar — never a zero bar.
Item {
    id: root

    required property UsageBarModel bars
    property bool touSplit: false
    property string firstLabel
    property string lastLabel

    implicitHeight: 120 * Theme.mm

    Row {
        id: plot
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.top: parent.top
        anchors.bottom: labels.top
        anchors.bottomMargin: Theme.spacingSmall
        spacing: Math.max(2, Math.round(0.6 * Theme.mm))

        Repeater {
            model: root.bars
            delegate: Item {
                id: slot
                required property bool present
                required property real fraction
                required property real sharpFraction
                required property real peakFraction
                required property real flatFraction
                required property real valleyFraction
                required property bool current

                width: (plot.width - plot.spacing * Math.max(0, root.bars.count - 1)) / Math.max(1, root.bars.count)
                height: plot.height

                // A gap: an outline without a bar.
                Rectangle {
                    visible: !slot.present
                    anchors.bottom: parent.bottom
                    width: parent.width
                    height: Math.round(8 * Theme.mm)
                    color: "transparent"
                    border.color: Theme.gap
                    border.width: Math.max(1, Math.round(0.4 * Theme.mm))
                }
                Column {
                    visible: slot.present
                    anchors.bottom: parent.bottom
                    width: parent.width
                    readonly property real barHeight: Math.max(slot.fraction > 0 ? 2 : 0, slot.fraction * slot.height)
                    Rectangle {
                        width: parent.width
                        height: root.touSplit ? parent.barHeight * slot.sharpFraction : 0
                        color: Theme.slotSharp
                    }
                    Rectangle {
                        width: parent.width
                        height: root.touSplit ? parent.barHeight * slot.peakFraction : 0
                        color: Theme.slotPeak
                    }
                    Rectangle {
                        width: parent.width
                        height: root.touSplit ? parent.barHeight * slot.flatFraction : parent.barHeight
                        color: root.touSplit ? Theme.slotFlat : (slot.current ? Theme.barCurrent : Theme.bar)
                    }
                    Rectangle {
                        width: parent.width
                        height: root.touSplit ? parent.barHeight * slot.valleyFraction : 0
                        color: Theme.slotValley
                    }
                }
            }
        }
    }

    RowLayout {
        id: labels
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        Text {
            Layout.fillWidth: true
            text: root.firstLabel
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
        }
        Text {
            Layout.fillWidth: true
            text: root.lastLabel
            wrapMode: Text.Wrap
            horizontalAlignment: Text.AlignRight
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
        }
    }
}
