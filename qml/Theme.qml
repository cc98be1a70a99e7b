pragma Singleton
import QtQuick

// The one place for colours, fonts, sizes and spacing (STYLE.md habit 18). Screens use these
// names, never literals. Touch sizes assume the lobby kiosk's ~96 dpi 1920×1080 panel:
// 1 mm ≈ 3.8 px, so a 15 mm control is 57 px and a 20 mm primary action 76 px.
QtObject {
    id: root

    readonly property bool highContrast: false

    // palette
    readonly property color background: root.highContrast ? "#000000" : "#f4f6f8"
    readonly property color surface: root.highContrast ? "#000000" : "#ffffff"
    readonly property color text: root.highContrast ? "#ffffff" : "#1b2430"
    readonly property color textMuted: root.highContrast ? "#ffffff" : "#5a6675"
    readonly property color brand: "#0b6e4f"
    readonly property color brandText: "#ffffff"

    // fonts: Noto Sans CJK SC draws Chinese and Latin alike
    readonly property string fontFamily: "Noto Sans CJK SC"
    readonly property int fontHuge: 96
    readonly property int fontTitle: 48
    readonly property int fontBody: 28
    readonly property int fontSmall: 22

    // spacing and touch sizes (px)
    readonly property int spacing: 24
    readonly property int margin: 48
    readonly property int touchMin: 57
    readonly property int touchPrimary: 76
    readonly property int radius: 12
}
