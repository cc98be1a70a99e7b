pragma Singleton
import QtQuick

// The one place for colours, fonts, sizes and spacing (STYLE.md habit 18). Screens use these
// names, never literals. Touch targets are physical: 15 mm for every control, 20 mm for the
// primary action of a screen, computed from the screen's pixel density (Screen.pixelDensity,
// px per mm) with a fallback of 96 dpi when the platform reports nothing sane (offscreen, some
// panels). Colours come in a normal and a high-contrast palette; status colours always come
// with words on screen, never alone.
//
// `highContrast` and `pixelsPerMm` are set once by Main.qml (from the command line and the
// window's screen); nothing else writes here.
QtObject {
    id: root

    property bool highContrast: false
    property real pixelsPerMm: 96 / 25.4

    readonly property real mm: (root.pixelsPerMm > 2 && root.pixelsPerMm < 20) ? root.pixelsPerMm : 96 / 25.4

    // palette
    readonly property color background: root.highContrast ? "#000000" : "#eef2f5"
    readonly property color surface: root.highContrast ? "#000000" : "#ffffff"
    readonly property color surfaceBorder: root.highContrast ? "#ffffff" : "#d5dde5"
    readonly property color text: root.highContrast ? "#ffffff" : "#17212b"
    readonly property color textMuted: root.highContrast ? "#ffffff" : "#4d5b6a"
    readonly property color brand: root.highContrast ? "#ffff00" : "#0b6e4f"
    readonly property color brandText: root.highContrast ? "#000000" : "#ffffff"
    readonly property color buttonFill: root.highContrast ? "#000000" : "#ffffff"
    readonly property color buttonText: root.highContrast ? "#ffffff" : "#0b4f3a"
    readonly property color buttonBorder: root.highContrast ? "#ffffff" : "#9fb3c2"
    readonly property color disabledFill: root.highContrast ? "#000000" : "#e1e6ea"
    readonly property color disabledText: root.highContrast ? "#bbbbbb" : "#6b7785"
    readonly property color warningFill: root.highContrast ? "#000000" : "#fff4d6"
    readonly property color warningText: root.highContrast ? "#ffff00" : "#6b4a00"
    readonly property color errorText: root.highContrast ? "#ff8080" : "#a8071a"
    readonly property color overlay: root.highContrast ? "#e6000000" : "#b3101820"
    readonly property color gap: root.highContrast ? "#ffffff" : "#9aa7b3"

    // status colours: normal, alarm 1, alarm 2, arrears, kept on, offline (with words on screen)
    readonly property color statusNormal: root.highContrast ? "#00ff66" : "#1a7f37"
    readonly property color statusAlarm1: root.highContrast ? "#ffff00" : "#b26a00"
    readonly property color statusAlarm2: root.highContrast ? "#ff9900" : "#c2410c"
    readonly property color statusArrears: root.highContrast ? "#ff5555" : "#b91c1c"
    readonly property color statusForceOn: root.highContrast ? "#66ccff" : "#6d28d9"
    readonly property color statusOffline: root.highContrast ? "#cccccc" : "#52606d"
    readonly property color statusText: root.highContrast ? "#000000" : "#ffffff"

    // TOU slots: sharp, peak, flat, valley
    readonly property color slotSharp: root.highContrast ? "#ff5555" : "#c2410c"
    readonly property color slotPeak: root.highContrast ? "#ffff00" : "#e09f1f"
    readonly property color slotFlat: root.highContrast ? "#00ff66" : "#2f855a"
    readonly property color slotValley: root.highContrast ? "#66ccff" : "#2b6cb0"
    readonly property color bar: root.highContrast ? "#ffffff" : "#2f855a"
    readonly property color barCurrent: root.highContrast ? "#ffff00" : "#0b6e4f"

    // fonts: Noto Sans CJK SC draws Chinese and Latin alike (fonts-noto-cjk)
    readonly property string fontFamily: "Noto Sans CJK SC"
    readonly property int fontHuge: 120
    readonly property int fontDisplay: 80
    readonly property int fontTitle: 52
    readonly property int fontHeading: 40
    readonly property int fontBody: 32
    readonly property int fontSmall: 26

    // spacing and touch sizes (px)
    readonly property int spacing: Math.round(6 * root.mm)
    readonly property int spacingSmall: Math.round(3 * root.mm)
    readonly property int margin: Math.round(12 * root.mm)
    readonly property int radius: Math.round(3 * root.mm)
    readonly property int touchMin: Math.ceil(15 * root.mm)
    readonly property int touchPrimary: Math.ceil(20 * root.mm)
    readonly property int contentMaxWidth: Math.round(260 * root.mm)
}
