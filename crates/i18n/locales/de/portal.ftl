# Die Seiten des Portals: Anmeldung, zweiter Faktor, Einrichtung, Sicherheitseinstellungen.
portal-cancel = Abbrechen
server-time = Serverzeit:
clock-ahead = Die Uhr Ihres Geräts weicht um etwa { $seconds } Sekunden von der des Servers ab (sie geht vor). Werden Codes abgelehnt, stellen Sie die Uhr Ihres Telefons auf automatische Aktualisierung.
clock-behind = Die Uhr Ihres Geräts weicht um etwa { $seconds } Sekunden von der des Servers ab (sie geht nach). Werden Codes abgelehnt, stellen Sie die Uhr Ihres Telefons auf automatische Aktualisierung.

## Arten von Faktoren, wie die Seiten sie nennen
factor-key-synced = synchronisierter Passkey
factor-key-device-bound = gerätegebunden

## Sicherheitsschlüssel und Passkeys (das Skript der Seite zeigt diese Texte)
webauthn-unsupported = Dieser Browser unterstützt keine Sicherheitsschlüssel oder Passkeys. Verwenden Sie einen anderen Browser oder eine andere Methode.
webauthn-unreadable = Die Seite konnte nicht gelesen werden. Laden Sie sie neu und versuchen Sie es erneut.
webauthn-cancelled = Die Anfrage an den Sicherheitsschlüssel wurde abgebrochen oder ist abgelaufen. Versuchen Sie es erneut, wenn Sie bereit sind.
webauthn-registered = Dieser Sicherheitsschlüssel oder Passkey ist bereits für Ihr Konto registriert.
webauthn-insecure = Unter dieser Adresse lassen sich keine Sicherheitsschlüssel verwenden: Öffnen Sie den Server über seinen Hostnamen per https (oder über http://localhost).
webauthn-no-answer = Ihr Sicherheitsschlüssel oder Passkey hat nicht geantwortet{ $detail }. Versuchen Sie es erneut oder verwenden Sie eine andere Methode.
webauthn-answer-too-large = Die Antwort des Sicherheitsschlüssels ist zu groß.

## Anmelden
login-title = Anmelden
login-username = Benutzername
login-password = Passwort
login-submit = Anmelden
login-passkey = Mit einem Passkey anmelden

## Der zweite Faktor
second-factor-title = Zwei-Faktor-Authentifizierung
second-factor-backup-intro = Geben Sie einen der Backup-Codes ein, die Sie beim Einrichten der Zwei-Faktor-Authentifizierung notiert haben. Jeder Code funktioniert nur einmal.
second-factor-backup-code = Backup-Code
second-factor-verify = Bestätigen
second-factor-use-device = Stattdessen einen Code von Ihrem Gerät eingeben
second-factor-protected-by = Ihr Konto ist geschützt durch:
second-factor-duo-help = Duo Security bittet Sie, diese Anmeldung auf Ihrem Telefon (oder mit einer anderen Duo-Methode) zu bestätigen.
second-factor-duo = Mit Duo anmelden
second-factor-key = Sicherheitsschlüssel oder Passkey verwenden
second-factor-code = Authentifizierungscode
second-factor-use-backup = Einen Backup-Code verwenden
second-factor-remember = { $days ->
    [one] Diesen Browser { $days } Tag lang merken
   *[other] Diesen Browser { $days } Tage lang merken
}
second-factor-locked = Zu viele Fehlversuche: Ihr zweiter Faktor ist vorübergehend gesperrt. Versuchen Sie es später erneut oder bitten Sie einen Administrator, ihn zu entsperren.
second-factor-key-refused = Ihr Sicherheitsschlüssel oder Passkey wurde nicht akzeptiert. Versuchen Sie es erneut oder verwenden Sie eine andere Methode.
second-factor-wrong-code = Der eingegebene Code stimmt nicht mit dem erwarteten überein. Bitte versuchen Sie es erneut.
second-factor-code-sent = Wir haben einen Code an { $destination } gesendet. Geben Sie ihn unten ein.
duo-refused-not-confirmed = Duo hat diese Anmeldung nicht bestätigt. Bitte versuchen Sie es erneut.
duo-refused-used = Diese Antwort von Duo wurde bereits verwendet oder ist abgelaufen. Bitte versuchen Sie es erneut.
duo-refused-device-not-confirmed = Duo hat dieses Gerät nicht bestätigt. Bitte versuchen Sie es erneut.
duo-refused-not-pending = Dieses Duo-Gerät wartet nicht mehr auf die Einrichtung.

## Ein Gerät hinzufügen
enroll-choose-title = Dienst auswählen
enroll-required = Für Ihr Konto ist die Zwei-Faktor-Authentifizierung vorgeschrieben. Richten Sie sie ein, um fortzufahren.
enroll-none = Für Ihr Konto ist keine Zwei-Faktor-Methode aktiviert. Wenden Sie sich an einen Administrator.
enroll-service = Dienst
enroll-yubikey-aes = AES-Schlüssel des YubiKey
enroll-yubikey-aes-help = (32 Hexadezimalzeichen, wie von ykpersonalize ausgegeben)
enroll-yubikey-private-id = Private ID
enroll-yubikey-private-id-help = (12 Hexadezimalzeichen)
enroll-device-name = Gerätename
enroll-device-name-default = Authenticator-App
enroll-start = Los geht’s
enroll-scan-title = QR-Code scannen
enroll-scan-intro = Scannen Sie diesen QR-Code mit einer Authenticator-App wie Google Authenticator, Duo Mobile, Authy oder 1Password. Wenn Sie ihn nicht scannen können, geben Sie stattdessen den Schlüssel unten ein.
enroll-scan-qr-alt = QR-Code für Ihre Authenticator-App
enroll-scan-key = Schlüssel:
enroll-device = Gerät: { $label }
enroll-enter-code = Geben Sie den 6-stelligen Code ein
enroll-submit = Absenden
enroll-verify-title = Geben Sie den gesendeten Code ein
enroll-verify-sent-before = Wir haben einen 6-stelligen Code an
enroll-verify-sent-after = {" "}gesendet. Er funktioniert einmal und nur wenige Minuten lang.
enroll-resend = Neuen Code senden
enroll-resent = Wir haben einen neuen Code an { $destination } gesendet.
enroll-touch-title = Berühren Sie Ihren YubiKey
enroll-touch-intro = Stecken Sie Ihren YubiKey ({ $label }) ein, klicken Sie in das Feld unten und berühren Sie den Schlüssel. Er tippt einen Einmalcode ein und sendet ihn ab; damit wird dieser Schlüssel an Ihr Konto gebunden.
enroll-touch-code = YubiKey-Code
enroll-key-title = Sicherheitsschlüssel oder Passkey registrieren
enroll-key-intro = Klicken Sie auf „Weiter“: Ihr Browser bittet Sie, Ihren Sicherheitsschlüssel zu berühren oder den Passkey auf diesem Gerät, Ihrem Telefon oder in Ihrem Passwort-Manager zu entsperren. Damit wird er für Ihr Konto registriert.
enroll-key-noscript = Sicherheitsschlüssel und Passkeys werden über ein Skript Ihres Browsers angesprochen: Aktivieren Sie JavaScript für diese Seite oder wählen Sie eine andere Methode.
enroll-duo-title = Weiter zu Duo
enroll-duo-intro = Duo Security richtet Ihr Gerät ({ $label }) auf einer eigenen Seite ein. Wechseln Sie zu Duo, folgen Sie den Schritten und bestätigen Sie dort die Anmeldung; danach kommen Sie hierher zurück, und Duo ist eine Ihrer Anmeldemethoden.
duo-done-title = Duo ist eingerichtet
duo-done-intro = Duo Security ist jetzt eine Anmeldemethode für { $username }. Sie können diese Seite schließen.
duo-done-codes = Bewahren Sie diese Backup-Codes an einem sicheren Ort auf. Jeder funktioniert nur einmal, und sie sind Ihr Zugang, falls Sie Ihr Gerät verlieren. Sie werden nicht noch einmal angezeigt.

## Backup-Codes
codes-fresh-title = Backup-Codes notieren
codes-view-title = Ihre Backup-Codes
codes-fresh = Bewahren Sie diese Backup-Codes an einem sicheren Ort auf. Jeder funktioniert nur einmal, und sie sind Ihr Zugang, falls Sie Ihr Gerät verlieren. Sie werden erst wieder angezeigt, wenn Sie Ihr Passwort eingeben.
codes-used = Verwendete Codes sind durchgestrichen.
codes-copy = In die Zwischenablage kopieren
codes-copied = Kopiert
codes-copy-failed = Kopieren fehlgeschlagen
codes-download = Herunterladen
codes-close = Schließen
codes-file-header = Backup-Codes für Twofold. Jeder funktioniert nur einmal.

## Ersteinrichtung
setup-title = Konto des Eigentümers anlegen
setup-intro = Der Eigentümer ist der Hauptadministrator: Er verwaltet die 2FA-Einstellungen, Administratoren und API-Tokens. Dieser Link funktioniert nur einmal.
setup-email = E-Mail (optional)
setup-password-again = Passwort bestätigen
setup-submit = Eigentümerkonto anlegen
setup-password-mismatch = Die beiden Passwörter stimmen nicht überein.
setup-link-title = Einrichtungslink
setup-link-gone = Dieser Einrichtungslink ist nicht mehr gültig.

## Identität bestätigen
step-up-title = Bestätigen Sie, dass Sie es sind
step-up-intro = { $action ->
        [remove] Um ein Gerät zu entfernen
        [new-codes] Um neue Backup-Codes zu erhalten
        [view-codes] Um Ihre Backup-Codes anzuzeigen
        [disable] Um die Zwei-Faktor-Authentifizierung auszuschalten
       *[enroll] Um ein Gerät hinzuzufügen
    }, geben Sie Ihr Passwort{ $proof ->
        [code] {" "}und einen aktuellen Code von einem Ihrer Geräte (oder einen Backup-Code) ein
        [key] {" "}und einen aktuellen Code von einem Ihrer Geräte (oder einen Backup-Code) ein oder verwenden Sie Ihren Sicherheitsschlüssel
       *[none] {" "}ein
    }. Sie werden 5 Minuten lang nicht erneut gefragt.
step-up-code = Ein aktueller Code oder ein Backup-Code
step-up-continue = Weiter
step-up-password-missing = Geben Sie Ihr Passwort ein.

## Abmelden
logout-intro = Von Twofold in diesem Browser abmelden? Jede Anwendung, die auf diese Anmeldung vertraut, wird Sie erneut um eine Anmeldung bitten.

## Sicherheitseinstellungen
security-twofa-on = Die Zwei-Faktor-Authentifizierung ist aktiviert
security-twofa-on-help = Bei der Anmeldung fragt Twofold nach Ihrem Passwort einen Code von einem dieser Geräte ab.
security-devices = Ihre Geräte
security-col-device = Gerät
security-col-method = Methode
security-col-added = Hinzugefügt
security-col-last-used = Zuletzt verwendet
security-col-action = Aktion
security-not-confirmed = nicht bestätigt
security-remove = Entfernen
security-remove-label = { $label } entfernen
security-add-device = Weiteres Gerät hinzufügen
security-twofa-off = Die Zwei-Faktor-Authentifizierung ist deaktiviert
security-twofa-off-help = Fügen Sie Ihrer Anmeldung einen zweiten Schritt hinzu: einen Code von Ihrem Telefon nach dem Passwort, damit ein bekannt gewordenes Passwort allein nicht genügt.
security-enable = Zwei-Faktor-Authentifizierung aktivieren
security-backup = Backup-Codes
security-backup-help = Verwenden Sie einen, wenn Sie Ihr Gerät nicht zur Hand haben.
security-view-codes = Backup-Codes anzeigen
security-new-codes-help = Neue Codes ersetzen die alten, die dann nicht mehr funktionieren.
security-new-codes = Neue Codes erzeugen
security-turn-off = Ausschalten
security-required = Für Ihr Konto ist die Zwei-Faktor-Authentifizierung vorgeschrieben.
security-turn-off-help = Beim Ausschalten werden alle Ihre Geräte und Backup-Codes entfernt, und Sie werden überall abgemeldet, auch in diesem Browser.
security-turn-off-submit = Zwei-Faktor-Authentifizierung ausschalten
security-password-help = Wenn Sie Ihr Passwort ändern, werden Sie überall abgemeldet, auch in diesem Browser.
security-current-password = Aktuelles Passwort
security-new-password = Neues Passwort
security-new-password-again = Neues Passwort wiederholen
security-change-password = Passwort ändern
security-password-mismatch = Die neuen Passwörter stimmen nicht überein.
security-sessions = Aktive Sitzungen
security-sessions-caption = Wo Sie angemeldet sind
security-col-browser = Browser
security-col-ip = IP-Adresse
security-col-signed-in = Angemeldet
security-this-browser = dieser Browser
security-signing-in = Anmeldung läuft
security-ip-unknown = unbekannt
security-sign-out = Abmelden
security-sign-out-label = { $browser } abmelden
security-browsers = Gemerkte Browser
security-no-browsers = Kein Browser ist gemerkt. Setzen Sie bei der Code-Eingabe das Häkchen bei „Diesen Browser merken“, dann fragt dieser Browser eine Zeit lang nur nach Ihrem Passwort.
security-browsers-caption = Diese Browser melden Sie allein mit Ihrem Passwort an
security-col-remembered = Gemerkt
security-col-until = Bis
security-forget = Vergessen
security-forget-label = { $browser } vergessen
security-end-all-help = Beendet jede Sitzung, auch diese, und vergisst alle gemerkten Browser.
security-end-all = Überall abmelden

## Was die Seiten für den zweiten Faktor und die Einrichtung anbieten
