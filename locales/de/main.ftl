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
