<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>AccountScreen</name>
    <message numerus="yes">
        <location filename="../screens/tenant/AccountScreen.qml" line="27"/>
        <source>Tiered tariff: %1 per kWh, more in %n higher step(s) as this month&apos;s use grows.</source>
        <translation>
            <numerusform>Tiered tariff: %1 per kWh, more in %n higher step as this month&apos;s use grows.</numerusform>
            <numerusform>Tiered tariff: %1 per kWh, more in %n higher steps as this month&apos;s use grows.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../screens/tenant/AccountScreen.qml" line="84"/>
        <source>About %n day(s) left at your recent usage.</source>
        <translation>
            <numerusform>About %n day left at your recent usage.</numerusform>
            <numerusform>About %n days left at your recent usage.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>IdleOverlay</name>
    <message numerus="yes">
        <location filename="../components/IdleOverlay.qml" line="47"/>
        <source>For your privacy this screen closes in %n second(s).</source>
        <translation>
            <numerusform>For your privacy this screen closes in %n second.</numerusform>
            <numerusform>For your privacy this screen closes in %n seconds.</numerusform>
        </translation>
    </message>
</context>
</TS>
