# Texte der Karten und Nachrichten von passkey-pilot (Deutsch).

welcome-title = Hallo { $name }, jetzt geht es zu Passkeys
welcome-title-unnamed = Hallo, jetzt geht es zu Passkeys
welcome-body = Ihre Organisation ersetzt Passwörter sowie Codes per App oder SMS durch Passkeys: eine Anmeldung, die sich nicht abfischen lässt und mit Gesicht, Fingerabdruck oder Geräte-PIN entsperrt wird.
welcome-steps = Ich sehe mir die Geräte an, die Sie verwenden, sage Ihnen genau, was jedes braucht, lasse Sie eine Anmeldung mit Passkey testen und stelle erst dann Ihr Konto um. Das dauert etwa drei Minuten.
welcome-privacy = Ich sehe nur Ihre eigenen Anmeldemethoden und die Geräte, mit denen Sie sich in den letzten 30 Tagen angemeldet haben.
welcome-fallback = Willkommen bei Passkey Pilot. Öffnen Sie diesen Chat in Teams, um die ganze Nachricht zu sehen.
welcome-about-title = Was ist ein Passkey?
welcome-about-what = Ein Passkey ist ein Anmeldeschlüssel auf Ihrem Telefon, Ihrem Computer oder einem Sicherheitsschlüssel. Sie entsperren ihn so wie das Gerät: mit Gesicht, Fingerabdruck oder Geräte-PIN.
welcome-about-password = Er ist kein Passwort: Es wird nichts eingetippt oder übertragen, das jemand kopieren könnte. Eine gefälschte Anmeldeseite bekommt nichts Brauchbares, denn ein Passkey funktioniert nur auf der echten Microsoft-Anmeldeseite.
welcome-about-pin = Die PIN verlässt Ihr Gerät nie. Wer sie kennt, braucht trotzdem das Gerät in der Hand. Darum ist sie sicherer als ein Passwort, das überall funktioniert.
welcome-about-lost = Telefon verloren oder neu? Schreiben Sie mir „Ich habe ein neues Telefon“ oder fragen Sie den Helpdesk; Sie bekommen einen befristeten Zugangscode, um einen neuen Passkey einzurichten.

## Gemeinsam für die Karten der Umstellung

card-fallback = { $title } (öffnen Sie diesen Chat in der Teams-App, um fortzufahren)
deadline-sentence = Ab { $date } ist für Ihr Konto ein Passkey Pflicht.
date-time = { $weekday }, { $day }. { $month } { $year }, { $time } Uhr
weekday-1 = Montag
weekday-2 = Dienstag
weekday-3 = Mittwoch
weekday-4 = Donnerstag
weekday-5 = Freitag
weekday-6 = Samstag
weekday-7 = Sonntag
month-1 = Januar
month-2 = Februar
month-3 = März
month-4 = April
month-5 = Mai
month-6 = Juni
month-7 = Juli
month-8 = August
month-9 = September
month-10 = Oktober
month-11 = November
month-12 = Dezember

action-start = Los geht's
action-continue = Jetzt weitermachen
action-devices = Meine Geräte anzeigen
action-recheck = Erneut prüfen
action-test = Anmeldung testen
action-exclude = Ausnahme beantragen
action-snooze = Später erinnern
action-help = Hilfe
action-helpdesk = Mit dem Helpdesk sprechen
action-registered = Erledigt
action-enforce = Ja, jetzt umstellen

link-security-info = Sicherheitsinformationen
link-authenticator-app-store = Authenticator laden
link-authenticator-google-play = Authenticator laden
link-windows-hello = Windows Hello-Einstellungen

os-ios = iPhone oder iPad
os-android = Android
os-windows = Windows
os-macos = Mac
os-linux = Linux
os-other = Anderes Gerät

option-authenticatorPasskey = Passkey in Microsoft Authenticator
option-windowsHelloForBusiness = Windows Hello for Business
option-platformPasskey = Im Computer eingebauter Passkey
option-syncedPasskey = Passkey im Passwortmanager Ihres Geräts
option-securityKey = Sicherheitsschlüssel (USB oder NFC)
option-other = Eine andere Art Passkey

## Schritte

steps-authenticatorPasskey-ios =
    1. Installieren oder aktualisieren Sie **Microsoft Authenticator** aus dem App Store (ab iOS 17).
    2. Schalten Sie in den iPhone-**Einstellungen › Allgemein › Automatisch ausfüllen & Passwörter** den **Authenticator** ein.
    3. Öffnen Sie den Authenticator, tippen Sie auf Ihr Geschäftskonto (fehlt es, fügen Sie es mit **+ › Geschäfts- oder Schulkonto** hinzu) und wählen Sie **Passkey erstellen**.
    4. Bestätigen Sie mit Face ID, Touch ID oder dem iPhone-Code.
steps-authenticatorPasskey-android =
    1. Installieren oder aktualisieren Sie **Microsoft Authenticator** aus Google Play (ab Android 14).
    2. Wählen Sie in den Android-**Einstellungen › Passwörter, Passkeys und Konten** (der Name variiert je nach Hersteller) den **Authenticator** als Passkey-Anbieter.
    3. Öffnen Sie den Authenticator, tippen Sie auf Ihr Geschäftskonto (fehlt es, fügen Sie es mit **+ › Geschäfts- oder Schulkonto** hinzu) und wählen Sie **Passkey erstellen**.
    4. Bestätigen Sie mit Fingerabdruck, Gesicht oder Bildschirmsperre.
steps-authenticatorPasskey-computer =
    1. Halten Sie Ihr Telefon mit **Microsoft Authenticator** bereit; Bluetooth muss auf dem Telefon und auf diesem Computer eingeschaltet sein.
    2. Öffnen Sie auf diesem Computer die **Sicherheitsinformationen** und wählen Sie **+ Anmeldemethode hinzufügen › Passkey in Microsoft Authenticator**.
    3. Wenn gefragt wird, wo er gespeichert werden soll, wählen Sie **iPhone, iPad oder Android-Gerät** und scannen Sie den QR-Code mit der Kamera Ihres Telefons.
    4. Speichern Sie den Passkey im **Authenticator** auf dem Telefon und bestätigen Sie mit dessen Bildschirmsperre.
    5. Künftig melden Sie sich an diesem Computer an, indem Sie **Gesicht, Fingerabdruck, PIN oder Sicherheitsschlüssel** wählen und den QR-Code mit dem Telefon scannen.
steps-authenticatorPasskey =
    1. Öffnen Sie die **Sicherheitsinformationen** und wählen Sie **+ Anmeldemethode hinzufügen › Passkey in Microsoft Authenticator**.
    2. Folgen Sie den Anweisungen und speichern Sie den Passkey im **Authenticator** auf Ihrem Telefon.
steps-windowsHelloForBusiness =
    1. Öffnen Sie die **Windows Hello-Einstellungen** oder **Einstellungen › Konten › Anmeldeoptionen**.
    2. Wählen Sie bei **PIN (Windows Hello)** **Einrichten** (oder **Ich habe meine PIN vergessen**, um sie zurückzusetzen) und melden Sie sich mit Ihrem Geschäftskonto an.
    3. Wählen Sie eine PIN, die Sie sich merken können; fügen Sie Gesicht oder Fingerabdruck hinzu, wenn der Computer es anbietet.
    4. Sperren Sie den Computer (Windows-Taste + L) und entsperren Sie ihn mit der neuen PIN, um sie zu prüfen.
steps-platformPasskey-windows =
    1. Öffnen Sie die **Sicherheitsinformationen** und wählen Sie **+ Anmeldemethode hinzufügen › Passkey**.
    2. Wenn Windows fragt, wo der Passkey gespeichert werden soll, wählen Sie **Dieses Windows-Gerät** und bestätigen Sie mit Ihrer Windows Hello-PIN, Gesicht oder Fingerabdruck.
steps-platformPasskey-macos =
    1. Prüfen Sie, dass das **Unternehmensportal** installiert und die Registrierung abgeschlossen ist; oben rechts erscheint eventuell die Mitteilung **Registrierung erforderlich**.
    2. Klicken Sie auf die Mitteilung, melden Sie sich mit Ihrem Geschäftskonto an und bestätigen Sie mit Touch ID oder Ihrem Mac-Passwort.
    3. Der Mac meldet Sie nun mit einem Schlüssel aus seiner Secure Enclave an.
steps-platformPasskey =
    1. Öffnen Sie die **Sicherheitsinformationen** und wählen Sie **+ Anmeldemethode hinzufügen › Passkey**.
    2. Speichern Sie den Passkey auf diesem Gerät und bestätigen Sie mit dessen Bildschirmsperre.
steps-syncedPasskey-ios =
    1. Prüfen Sie, dass der **iCloud-Schlüsselbund** eingeschaltet ist (**Einstellungen › Ihr Name › iCloud › Passwörter und Schlüsselbund**).
    2. Öffnen Sie die **Sicherheitsinformationen** in Safari und wählen Sie **+ Anmeldemethode hinzufügen › Passkey**.
    3. Sichern Sie den Passkey im **iCloud-Schlüsselbund** und bestätigen Sie mit Face ID oder Touch ID.
steps-syncedPasskey-android =
    1. Prüfen Sie, dass Sie auf dem Telefon im **Google Passwortmanager** angemeldet sind.
    2. Öffnen Sie die **Sicherheitsinformationen** in Chrome und wählen Sie **+ Anmeldemethode hinzufügen › Passkey**.
    3. Sichern Sie den Passkey im **Google Passwortmanager** und bestätigen Sie mit der Bildschirmsperre.
steps-syncedPasskey-macos =
    1. Prüfen Sie, dass der **iCloud-Schlüsselbund** eingeschaltet ist (**Systemeinstellungen › Ihr Name › iCloud › Passwörter und Schlüsselbund**).
    2. Öffnen Sie die **Sicherheitsinformationen** in Safari oder Chrome und wählen Sie **+ Anmeldemethode hinzufügen › Passkey**.
    3. Sichern Sie den Passkey im **iCloud-Schlüsselbund** und bestätigen Sie mit Touch ID oder Ihrem Mac-Passwort.
steps-syncedPasskey =
    1. Öffnen Sie die **Sicherheitsinformationen** in Ihrem Browser und wählen Sie **+ Anmeldemethode hinzufügen › Passkey**.
    2. Sichern Sie den Passkey in Ihrem Passwortmanager und bestätigen Sie mit der Bildschirmsperre des Geräts.
steps-securityKey =
    1. Holen Sie sich beim Helpdesk einen Sicherheitsschlüssel (USB oder NFC).
    2. Öffnen Sie die **Sicherheitsinformationen** und wählen Sie **+ Anmeldemethode hinzufügen › Sicherheitsschlüssel**.
    3. Wählen Sie **USB-Gerät** oder **NFC-Gerät**, stecken Sie den Schlüssel ein oder halten Sie ihn an, legen Sie eine PIN fest und berühren Sie den Schlüssel, wenn er blinkt.
steps-other =
    1. Öffnen Sie die **Sicherheitsinformationen** und wählen Sie **+ Anmeldemethode hinzufügen**.
    2. Fügen Sie einen Passkey hinzu und folgen Sie den Anweisungen.

## Geräte

devices-title = Ihre Geräte
devices-intro-not-yet = Hier sind alle Geräte, mit denen Sie sich in den letzten 30 Tagen angemeldet haben, und was jedes braucht. Beginnen Sie mit dem ersten, das einen Passkey braucht.
devices-intro-safe = Alle Ihre Geräte sind bereit. Testen Sie eine Anmeldung mit Passkey, dann stelle ich Ihr Konto um.
devices-intro-exclusion = Mindestens eines Ihrer Geräte kann noch keinen Passkey verwenden. Unten sehen Sie, was Sie tun können.
devices-none = Ich habe kein Gerät gefunden, mit dem Sie sich in den letzten 30 Tagen angemeldet haben. Melden Sie sich auf Computer und Telefon bei Microsoft 365 an und tippen Sie dann auf „Erneut prüfen“.
devices-recommended = Empfohlen: { $option }
devices-register = Jetzt einrichten
devices-redo = Neu einrichten
devices-next = { $device } einrichten
devices-more-ready = { $count ->
    [one] Ein weiteres Gerät ist bereit.
   *[other] { $count } weitere Geräte sind bereit.
}
devices-steps-next = Tippen Sie auf „Jetzt einrichten“: Die nächste Karte zeigt die Schritte und die passenden Links.

status-ready = Bereit
status-needsTest = Test nötig
status-needsPasskey = Braucht einen Passkey
status-incompatible = Nicht geeignet
status-unknown = Unbekannt
todo-ready = Nichts zu tun: Dieses Gerät meldet sich bereits mit einem Passkey an.
todo-needsTest = Melden Sie sich einmal von diesem Gerät mit Ihrem Passkey an: Tippen Sie auf „Anmeldung testen“.
todo-needsPasskey = Fügen Sie mit einer dieser Möglichkeiten einen Passkey hinzu; die erste passt am besten zu diesem Gerät.
todo-incompatible = Was Sie tun können:
todo-unknown = Sagen Sie mir mehr, damit ich helfen kann:

hint-whfbPinPossiblyForgotten = Windows Hello ist eingerichtet, aber die PIN wurde lange nicht benutzt. Wenn Sie sie nicht mehr wissen, richten Sie Windows Hello neu ein.
hint-passkeyPossiblyDeleted = Ein Passkey ist registriert, wurde aber lange nicht benutzt; vielleicht wurde er vom Telefon gelöscht. Falls er fehlt, richten Sie ihn neu ein.
hint-passkeyNeverUsed = Ein Passkey ist registriert, wurde aber noch nie zur Anmeldung benutzt.
hint-notTriedSinceRegistration = Sie haben sich seit der Einrichtung noch nicht mit Ihrem Passkey angemeldet.
hint-notUsedFromThisDevice = Sie haben einen Passkey, haben sich damit aber noch nicht von diesem Gerät angemeldet.
hint-other = Ein Passkey deckt dieses Gerät ab, wurde von dort aber noch nicht benutzt.

reason-iosTooOld = Auf diesem iPhone oder iPad läuft eine iOS-Version vor 17; sie kann keinen Passkey in Microsoft Authenticator speichern.
reason-androidTooOld = Auf diesem Telefon läuft eine Android-Version vor 14; sie kann keinen Passkey in Microsoft Authenticator speichern.
reason-androidModelNeedsUpdate = Bei diesem Telefonmodell braucht ein Passkey in Microsoft Authenticator Android 15.
reason-desktopAppsNeedNewerWindows = Diese Windows-Version kann einen Passkey vom Telefon nur in Edge oder Chrome nutzen, nicht in Desktop-Apps wie Teams und Outlook.
reason-browserCannotUsePhonePasskey = Der Browser auf diesem Gerät kann keinen Passkey von Ihrem Telefon nutzen.
reason-policyAllowsNoOption = Keine der Passkey-Arten, die Ihre Organisation erlaubt, funktioniert auf diesem Gerät.
reason-unsupportedOs = Dieses Betriebssystem kann keinen Passkey für Ihr Geschäftskonto verwenden.
reason-other = Dieses Gerät kann keinen Passkey verwenden, den Ihre Organisation erlaubt.

remedy-upgradeOs = Aktualisieren Sie das Gerät auf die neueste Betriebssystemversion und tippen Sie dann auf „Erneut prüfen“.
remedy-useBrowser = Nutzen Sie Microsoft 365 auf diesem Gerät in Edge oder Chrome statt der Desktop-Apps.
remedy-allowSyncedPasskeys = Fragen Sie den Helpdesk, ob für Sie Passkeys im Passwortmanager des Geräts erlaubt werden können.
remedy-securityKey = Verwenden Sie einen Sicherheitsschlüssel (USB oder NFC); der Helpdesk kann Ihnen einen geben.
remedy-exclusion = Beantragen Sie mit der Schaltfläche unten eine befristete Ausnahme für dieses Gerät.
remedy-other = Fragen Sie den Helpdesk, was mit diesem Gerät zu tun ist.

unknown-explain = Ich konnte nicht erkennen, welches System oder welche Version auf diesem Gerät läuft.
ask-osVersion = Welche Betriebssystemversion läuft darauf? Aktualisieren Sie es, wenn möglich, und tippen Sie dann auf „Erneut prüfen“.
ask-deviceModel = Welches Modell ist es? Sagen Sie es dem Helpdesk.
ask-browser = Welchen Browser nutzen Sie darauf? Edge oder Chrome funktionieren am besten.
ask-other = Sagen Sie dem Helpdesk, um welches Gerät es sich handelt.

## Einrichten

register-title = { $option } auf { $device } einrichten
register-intro = Folgen Sie diesen Schritten; die Schaltflächen unten öffnen die richtige Stelle.
register-after = Wenn Sie fertig sind, tippen Sie auf „Erledigt“. Microsoft braucht einen Moment, bis ein neuer Passkey sichtbar ist; ich prüfe so lange weiter.

## Warten auf Graph

waiting-title = Ich suche Ihren neuen Passkey…
waiting-body = Danke! Ich prüfe, ob Microsoft Ihren neuen Passkey anzeigt. Diese Karte aktualisiert sich, sobald er da ist.
waiting-body-again = Microsoft zeigt Ihren neuen Passkey noch nicht an; das kann einige Minuten dauern. Ich suche weiter (Prüfung { $attempt }) und aktualisiere diese Karte.
waiting-note = An Ihrer Anmeldung hat sich bisher nichts geändert.

## Testanmeldung

confirming-title = Ihr Passkey funktioniert: Ich prüfe Ihre Geräte…
confirming-body = Ich warte, bis das Anmeldeprotokoll von Microsoft Ihren Test zeigt, damit das Gerät, auf dem Sie getestet haben, zählt. Diese Karte aktualisiert sich, sobald es so weit ist.
confirming-body-again = Das Anmeldeprotokoll von Microsoft zeigt Ihren Test noch nicht; das kann einige Minuten dauern. Ich schaue weiter nach (Prüfung { $attempt }) und aktualisiere diese Karte.
test-title = Testen Sie Ihre Anmeldung mit Passkey
test-body = Die Schaltfläche öffnet eine Microsoft-Anmeldeseite, die nur einen Passkey akzeptiert. Melden Sie sich mit dem eingerichteten Passkey an. Ihr Konto ändert sich dabei nicht: Der Test zeigt nur, dass der Passkey funktioniert.
test-where = Machen Sie diesen Test auf **{ $device }**.
test-cross-device = An einem Computer ohne eigenen Passkey wählen Sie **iPhone, iPad oder Android-Gerät** und scannen den QR-Code mit Ihrem Telefon.
test-note = Der Link funktioniert einmal und 10 Minuten lang. Kommen Sie danach hierher zurück: Diese Karte aktualisiert sich von selbst.
test-open = Test starten
test-retry = Noch einmal versuchen
test-failed-title = Die Testanmeldung hat nicht geklappt
test-failed-strengthNotMet = Bei der Anmeldung wurde kein Passkey verwendet. Wählen Sie auf der Anmeldeseite **Gesicht, Fingerabdruck, PIN oder Sicherheitsschlüssel**, keinen Code und keine App-Benachrichtigung.
test-failed-expired = Der Testlink ist abgelaufen; er gilt 10 Minuten.
test-failed-alreadyUsed = Dieser Testlink wurde schon benutzt; jeder funktioniert nur einmal.
test-failed-wrongUser = Sie haben sich mit einem anderen Konto angemeldet als dem, mit dem Sie hier chatten. Melden Sie sich mit Ihrem eigenen Geschäftskonto an.
test-failed-cancelled = Die Anmeldung wurde abgebrochen.
test-failed-authContextMissing = Die Anmeldung hat die Passkey-Anforderung des Tests nicht erfüllt.
test-failed-other = Die Testanmeldung ist nicht durchgegangen.
test-failed-next = Versuchen Sie es noch einmal. Ist der Passkey nicht mehr auf Ihrem Telefon oder Computer, richten Sie ihn neu ein.
test-unavailable = Die Testanmeldung kann gerade nicht starten. Versuchen Sie es gleich noch einmal; klappt es weiterhin nicht, wenden Sie sich an den Helpdesk.
test-failed-redo = Auf { $device } neu einrichten

## Umstellung

confirm-title = Bereit, Ihr Konto auf Passkeys umzustellen
confirm-body = Ihre Geräte sind für die Anmeldung mit Passkey bereit.
confirm-body-tested = Ihre Anmeldung mit Passkey hat funktioniert ({ $date }).
confirm-changes =
    - Für die Anmeldung mit Ihrem Geschäftskonto brauchen Sie dann Ihren Passkey (oder Windows Hello).
    - App-Benachrichtigungen, SMS-Codes und Anrufe reichen nicht mehr aus.
    - Ein gestohlenes Passwort allein nützt Angreifern nichts.
confirm-when = Die Änderung erreicht alle Apps innerhalb einer Stunde, sobald sie Ihre Anmeldung erneuern. Bis dahin bleiben Sie angemeldet.
paused-title = Die Umstellung ist gerade pausiert
paused-body = Ihr Passkey funktioniert, Sie müssen nichts weiter tun. Ihre IT hat die Umstellung der Konten pausiert; tippen Sie später auf „Meine Geräte anzeigen“ oder schreiben Sie „Status“, um weiterzumachen.
protected-title = Sie sind geschützt
protected-body = Seit { $date } verlangt Ihr Konto einen Passkey.
protected-changes =
    - Innerhalb einer Stunde fragt jede App nach Ihrem Passkey (oder Windows Hello), sobald sie Ihre Anmeldung erneuert.
    - App-Benachrichtigungen, SMS-Codes und Anrufe funktionieren nicht mehr als zweiter Schritt.
    - Behalten Sie die Bildschirmsperre Ihres Telefons und Ihre Windows Hello-PIN: Damit entsperren Sie Ihren Passkey.
protected-lost = Neues oder verlorenes Telefon? Schreiben Sie „Ich habe ein neues Telefon“, dann hilft Ihnen der Helpdesk, einen neuen Passkey einzurichten.

## Später erinnern

snooze-title = Wann soll ich Sie erinnern?
snooze-body = Ihre Geräte und Ihr Fortschritt bleiben erhalten; ich mache dort weiter, wo Sie aufgehört haben.
snooze-days = { $days ->
    [one] Morgen
   *[other] In { $days } Tagen
}
snooze-none = Sie haben so oft wie möglich verschoben. Machen wir es jetzt fertig: Es dauert etwa drei Minuten.
snoozed-title = Bis später
snoozed-body = Ich erinnere Sie am { $date }. Wenn Sie früher weitermachen möchten, tippen Sie auf die Schaltfläche oder schreiben Sie „Start“.

## Ausnahme

exclusion-title = Befristete Ausnahme beantragen
exclusion-body = Diese Geräte können keinen Passkey verwenden, den Ihre Organisation erlaubt. Bis sie es können, melden Sie sich dort für eine begrenzte Zeit weiter wie bisher an:
exclusion-note = Der Helpdesk sieht Ihren Antrag. Wenn die Ausnahme endet, prüfe ich Ihre Geräte erneut.
exclusion-reason-label = Warum brauchen Sie diese Geräte ohne Passkey?
exclusion-reason-placeholder = Zum Beispiel: Ich nutze mein altes Telefon für die Rufbereitschaft, bis es im März ersetzt wird.
exclusion-reason-error = Bitte geben Sie einen Grund an (höchstens 500 Zeichen).
exclusion-send = Antrag senden
excluded-title = Ausnahme gewährt
excluded-body = Bis { $date } sind diese Geräte von der Passkey-Pflicht ausgenommen:
excluded-note = Aktualisieren oder ersetzen Sie sie bis dahin, wenn möglich; ich prüfe erneut, wenn die Ausnahme endet.

## Hilfe und Helpdesk

help-title = Wie kann ich helfen?
help-body = Ich helfe Ihnen, Ihr Geschäftskonto auf Passkeys umzustellen: Ich prüfe Ihre Geräte, zeige, was jedes braucht, lasse Sie eine Anmeldung mit Passkey testen und stelle dann Ihr Konto um. Sie können auch „Start“, „Status“, „Später“, „Ich habe ein neues Telefon“ oder „Helpdesk“ schreiben.
help-faq-title = Häufige Fragen
help-q-passkey = Was ist ein Passkey?
help-a-passkey = Ein Anmeldeschlüssel auf Ihrem Telefon, Computer oder einem Sicherheitsschlüssel, entsperrt wie das Gerät selbst: mit Gesicht, Fingerabdruck oder PIN.
help-q-password = Ist ein Passkey ein Passwort?
help-a-password = Nein. Es wird nichts eingetippt oder übertragen, das jemand kopieren könnte, und eine gefälschte Anmeldeseite bekommt nichts Brauchbares.
help-q-pin = Warum ist eine PIN sicherer als ein Passwort?
help-a-pin = Die PIN verlässt Ihr Gerät nie. Wer sie kennt, braucht trotzdem das Gerät in der Hand.
help-q-lost = Was, wenn ich mein Telefon verliere?
help-a-lost = Schreiben Sie „Ich habe ein neues Telefon“: Der Helpdesk gibt Ihnen einen befristeten Zugangscode, um einen neuen Passkey einzurichten.
help-q-time = Wie lange dauert es?
help-a-time = Etwa drei Minuten, wenn alles passt.
helpdesk-title = Der Helpdesk meldet sich
helpdesk-asked = Ich habe Ihre Anfrage mit dem, was ich über Ihre Geräte weiß, an den Helpdesk gegeben. Jemand meldet sich bei Ihnen in Teams.
helpdesk-registrationNotFound = Ich sehe Ihren neuen Passkey bei Microsoft immer noch nicht. Ich habe den Helpdesk gebeten, nachzusehen; jemand meldet sich bei Ihnen in Teams.
helpdesk-lookupFailing = Ich kann Ihre Anmeldedaten gerade nicht lesen. Ich habe den Helpdesk gebeten, nachzusehen.
helpdesk-enforcementFailed = Ich konnte Ihr Konto nicht umstellen; Ihre Anmeldung ist unverändert. Ich habe den Helpdesk gebeten, es abzuschließen.
helpdesk-newPhone = Für ein neues Telefon brauchen Sie einen befristeten Zugangscode, um einen neuen Passkey einzurichten. Ich habe den Helpdesk gefragt; jemand meldet sich bei Ihnen in Teams.
helpdesk-note = Bis dahin funktioniert Ihre Anmeldung wie bisher.

## Weitere Karten

checking-title = Ich sehe mir Ihre Geräte an…
checking-body = Das dauert ein paar Sekunden; diese Karte aktualisiert sich von selbst.
not-target-title = Für Sie gibt es nichts zu tun
not-target-body = Ihr Konto gehört nicht zur Passkey-Umstellung, Sie müssen hier also nichts tun.
out-of-date-title = Diese Karte ist veraltet
out-of-date-body = Sie sind inzwischen weiter; die aktuelle Karte steht unten.
lookup-failed-title = Ich konnte Ihre Geräte gerade nicht ansehen
lookup-failed-body = Die Microsoft-Dienste haben nicht geantwortet. Bitte versuchen Sie es in ein paar Minuten noch einmal.

## Die Webseite nach einer Testanmeldung (im Browser, nicht in Teams)
signin-page-title = Test der Passkey-Anmeldung
signin-passed-title = Ihr Passkey funktioniert
signin-passed-body = Sie haben sich mit einem Passkey angemeldet. An Ihrem Konto hat sich nichts geändert.
signin-back = Sie können diese Seite schließen und zu Teams zurückkehren: Im Chat sehen Sie, wie es weitergeht.
signin-failed-back = Kehren Sie zu Teams zurück und versuchen Sie es im Chat noch einmal.
signin-unknown-title = Dieser Link funktioniert nicht
signin-unknown = Starten Sie den Test im Chat in Teams noch einmal.
signin-unavailable-title = Der Test ist gerade nicht verfügbar
signin-unavailable = Versuchen Sie es in ein paar Minuten im Chat in Teams noch einmal.
