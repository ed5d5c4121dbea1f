-brand = Twofold
skip-to-content = Zum Inhalt springen
nav-main = Hauptmenü
nav-security = Sicherheitseinstellungen
nav-admin = Verwaltung
signed-in-as = Angemeldet als { $username }
signing-in-as = Anmeldung als { $username }
log-out = Abmelden
footer = Twofold · Zwei-Faktor-Authentifizierung
language = Sprache
language-change = Ändern
language-menu = Sprache wählen
backup-codes-left = { $count ->
    [one] { $count } unbenutzter Backup-Code übrig.
   *[other] { $count } unbenutzte Backup-Codes übrig.
}
language-label = Sprache für Seiten, E-Mails und SMS
language-browser = Sprache des Browsers
language-help = Seiten, E-Mails und SMS erscheinen in dieser Sprache. „Sprache des Browsers“ folgt der Einstellung Ihres Browsers.
language-save = Sprache speichern
language-unknown-title = Unbekannte Sprache
language-unknown = Wählen Sie eine der Sprachen aus der Liste.
back-to-security = Zurück zu den Sicherheitseinstellungen
go-to-start = Zur Startseite
no-access-title = Kein Zugriff
no-access = Sie haben keinen Zugriff auf diese Seite.
not-found-title = Nicht gefunden
not-found = Diese Seite gibt es nicht.
form-refused-title = Formular abgelehnt
form-refused = Das Formular ist abgelaufen oder wurde nicht von dieser Website gesendet. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
internal-title = Etwas ist schiefgelaufen
internal = Auf dem Server ist ein Fehler aufgetreten; die Einzelheiten stehen in seinem Protokoll.
notice-owner-created = Das Inhaberkonto wurde angelegt. Melden Sie sich an.
notice-logged-out = Sie haben sich abgemeldet.
notice-expired = Ihre Anmeldung hat zu lange gedauert. Bitte beginnen Sie von vorn.
notice-device-added = Gerät hinzugefügt.
notice-device-removed = Gerät entfernt.
notice-twofa-off = Die Zwei-Faktor-Authentifizierung ist ausgeschaltet.
notice-reset-done = Die Zwei-Faktor-Authentifizierung wurde zurückgesetzt.
notice-unlocked = Der zweite Faktor wurde entsperrt.
notice-disabled = Das Konto wurde deaktiviert.
notice-enabled = Das Konto wurde aktiviert.
notice-settings-saved = Einstellungen gespeichert.
notice-login-required = Bitte melden Sie sich an.
notice-duo-failed = Duo hat diese Anmeldung nicht bestätigt. Bitte melden Sie sich an und versuchen Sie es erneut.
notice-signed-out-everywhere = Sie wurden überall abgemeldet. Melden Sie sich erneut an.
notice-session-ended = Diese Sitzung wurde abgemeldet.
notice-browser-forgotten = Dieser Browser ist vergessen: Bei seiner nächsten Anmeldung wird wieder nach dem zweiten Faktor gefragt.
notice-password-changed = Ihr Passwort wurde geändert und alle Sitzungen wurden abgemeldet. Melden Sie sich mit dem neuen Passwort an.
notice-signed-out = Ihre Sitzung ist beendet. Melden Sie sich erneut an.
notice-last-device-removed = Gerät entfernt. Es war Ihr letztes, daher wurden alle Sitzungen abgemeldet. Melden Sie sich erneut an.
notice-twofa-off-signed-out = Die Zwei-Faktor-Authentifizierung ist ausgeschaltet und alle Sitzungen wurden abgemeldet. Melden Sie sich erneut an.
notice-language-saved = Sprache gespeichert.

kind-totp = Zeitbasierte Codes
kind-email = E-Mail-Codes
kind-sms = SMS-Codes
kind-yubikey = YubiKey
kind-duo = Duo Security
kind-webauthn = Sicherheitsschlüssel oder Passkey
kind-hotp = Zählerbasierte Codes
offer-method = { $kind ->
    [totp] { kind-totp }
    [email] { kind-email }
    [sms] { kind-sms }
    [yubikey] { kind-yubikey }
    [duo] { kind-duo }
    [webauthn] { kind-webauthn }
   *[hotp] { kind-hotp }
} ({ $label })
offer-send-email = Code per E-Mail senden ({ $to })
offer-send-sms = Code per SMS senden ({ $to })
offer-help-totp = Eine App auf Ihrem Smartphone, etwa Google Authenticator, Duo Mobile oder Authy, zeigt alle 30 Sekunden einen neuen 6-stelligen Code.
offer-help-email = Bei jeder Anmeldung ein 6-stelliger Code an { $to }.
offer-help-sms = Bei jeder Anmeldung ein 6-stelliger Code per SMS an { $to }.
offer-help-yubikey = Ein YubiKey: Stecken Sie ihn ein und berühren Sie ihn; er gibt einen Einmalcode ein.
offer-help-duo = Duo Security: Bestätigen Sie jede Anmeldung in Duo Mobile (oder mit einer anderen Duo-Methode). Eingerichtet wird es in Duos eigenem Dialog.
offer-help-webauthn = Ein Sicherheitsschlüssel (etwa ein YubiKey) oder ein Passkey auf Ihrem Smartphone, Computer oder im Passwort-Manager: Berühren oder entsperren Sie ihn, um sich anzumelden.
offer-help-hotp = Ein Token, das bei jedem Druck auf seine Taste einen neuen Code zeigt.
offer-help-touch-key = Berühren Sie Ihren YubiKey: Er gibt seinen Code ein und sendet ihn ab.
offer-help-key-or-backup = Verwenden Sie Ihren Sicherheitsschlüssel oder Passkey oder geben Sie einen Backup-Code ein.
offer-help-duo-or-backup = Verwenden Sie unten „Mit Duo anmelden“ oder einen Backup-Code.
offer-way-totp = { $position ->
    [first] { $other ->
        [0] Der { $digits }-stellige Code, den Ihre Authenticator-App gerade anzeigt.
       *[other] Der { $digits }- oder { $other }-stellige Code, den Ihre Authenticator-App gerade anzeigt.
    }
   *[more] { $other ->
        [0] Oder geben Sie den { $digits }-stelligen Code ein, den Ihre Authenticator-App gerade anzeigt.
       *[other] Oder geben Sie den { $digits }- oder { $other }-stelligen Code ein, den Ihre Authenticator-App gerade anzeigt.
    }
}
offer-way-hotp = { $position ->
    [first] { $other ->
        [0] Der { $digits }-stellige Code, den Ihr Token beim Druck auf seine Taste anzeigt.
       *[other] Der { $digits }- oder { $other }-stellige Code, den Ihr Token beim Druck auf seine Taste anzeigt.
    }
   *[more] { $other ->
        [0] Oder geben Sie den { $digits }-stelligen Code ein, den Ihr Token beim Druck auf seine Taste anzeigt.
       *[other] Oder geben Sie den { $digits }- oder { $other }-stelligen Code ein, den Ihr Token beim Druck auf seine Taste anzeigt.
    }
}
offer-way-sent = { $position ->
    [first] Der 6-stellige Code, den wir Ihnen gesendet haben.
   *[more] Oder geben Sie den 6-stelligen Code ein, den wir Ihnen gesendet haben.
}
offer-way-duo = { $position ->
    [first] Ein Passcode aus Duo Mobile.
   *[more] Oder geben Sie einen Passcode aus Duo Mobile ein.
}
