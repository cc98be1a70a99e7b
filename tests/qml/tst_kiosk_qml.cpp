// The one Quick Test runner of the kiosk's QML (STYLE.md habit 21): the tests in this folder
// (tst_*.qml) import the real modules — Prepay (screens, components), Prepay.Kiosk (the flow)
// and Prepay.Fixture (canned data) — linked statically, with the image://qr provider.
#include "qrimageprovider.h"

#include <QtQml/QQmlEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuickTest/quicktest.h>

Q_IMPORT_QML_PLUGIN(PrepayPlugin)
Q_IMPORT_QML_PLUGIN(Prepay_KioskPlugin)
Q_IMPORT_QML_PLUGIN(Prepay_FixturePlugin)

class Setup : public QObject
{
    Q_OBJECT

public Q_SLOTS:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
        engine->addImageProvider(QStringLiteral("qr"), new prepay::kiosk::QrImageProvider);
    }
};

QUICK_TEST_MAIN_WITH_SETUP(kiosk_qml, Setup)

#include "tst_kiosk_qml.moc"
