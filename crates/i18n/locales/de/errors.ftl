# Fehler und Ablehnungen: die `message` der API, Formularfehler auf Seiten, RADIUS-Reply-Messages.

## Anmelden und Abmelden
err-credentials-wrong = Benutzername oder Passwort ist falsch.
err-password-wrong = Das Passwort ist nicht richtig.
err-current-password-wrong = Ihr aktuelles Passwort ist nicht richtig.
err-password-length = Ein Passwort hat { $min } bis { $max } Zeichen.
err-account-disabled = Dieses Konto ist deaktiviert.
err-2fa-required = Für Ihr Konto ist die Zwei-Faktor-Authentifizierung vorgeschrieben.
err-set-up-2fa-first = Richten Sie zuerst die Zwei-Faktor-Authentifizierung ein.
err-finish-login-first = Schließen Sie zuerst die Anmeldung ab.
err-login-not-waiting-code = Diese Anmeldung wartet nicht auf einen Code.
err-login-not-waiting-second-factor = Diese Anmeldung wartet nicht auf einen zweiten Faktor.
err-login-already-completed = Diese Anmeldung ist bereits abgeschlossen.
err-login-not-enrolling = Bei dieser Anmeldung wird kein Gerät eingerichtet.
err-setup-link-invalid = Dieser Einrichtungslink ist nicht mehr gültig.
err-passkey-unknown = Dieser Passkey wurde nicht angenommen: Er ist hier nicht registriert, oder diese Anmeldung ist abgelaufen. Versuchen Sie es erneut oder melden Sie sich mit Ihrem Passwort an.
err-passkey-refused = Die Antwort Ihres Passkeys wurde abgelehnt. Bitte versuchen Sie es erneut.
err-passwordless-disabled = Die passwortlose Anmeldung ist auf diesem Server nicht aktiviert.

## Drosselung und Sperren
err-server-busy = Der Server ist ausgelastet. Versuchen Sie es gleich noch einmal.
err-too-many-attempts-wait = Zu viele fehlgeschlagene Versuche. Versuchen Sie es in { $seconds ->
    [one] { $seconds } Sekunde
   *[other] { $seconds } Sekunden
} erneut.
err-code-sent-recently = Vor Kurzem wurde bereits ein Code gesendet. Sie können in { $seconds ->
    [one] { $seconds } Sekunde
   *[other] { $seconds } Sekunden
} einen neuen anfordern.
err-locked = Zu viele fehlgeschlagene Versuche: Ihr zweiter Faktor ist vorübergehend gesperrt.
err-locked-ask-admin = Zu viele fehlgeschlagene Versuche: Ihr zweiter Faktor ist vorübergehend gesperrt. Versuchen Sie es später erneut oder bitten Sie einen Administrator, ihn zu entsperren.
err-locked-unlock-first = Zu viele falsche Codes: Der zweite Faktor dieses Benutzers ist vorübergehend gesperrt. Entsperren Sie zuerst den Benutzer.

## Bestätigen vor einer sensiblen Aktion
err-step-up-remove-device = Bestätigen Sie Ihre Identität, um ein Gerät zu entfernen: Geben Sie Ihr Passwort und einen aktuellen Code ein.
err-step-up-new-backup-codes = Bestätigen Sie Ihre Identität, um neue Backup-Codes zu erhalten: Geben Sie Ihr Passwort und einen aktuellen Code ein.
err-step-up-view-backup-codes = Bestätigen Sie Ihre Identität, um Ihre Backup-Codes zu sehen: Geben Sie Ihr Passwort und einen aktuellen Code ein.
err-step-up-disable-2fa = Bestätigen Sie Ihre Identität, um die Zwei-Faktor-Authentifizierung auszuschalten: Geben Sie Ihr Passwort und einen aktuellen Code ein.
err-step-up-change-contact = Bestätigen Sie Ihre Identität, um Ihre E-Mail-Adresse oder Telefonnummer zu ändern: Geben Sie Ihr Passwort und einen aktuellen Code ein.
err-step-up-add-device = Bestätigen Sie Ihre Identität, um ein Gerät hinzuzufügen: Geben Sie Ihr Passwort und einen aktuellen Code ein.

## Codes
err-code-malformed = Das ist kein Code: Geben Sie den 6-stelligen Code aus Ihrer App oder einen 10-stelligen Backup-Code ein.
err-code-wrong = Der eingegebene Code stimmt nicht. Bitte versuchen Sie es erneut.
err-code-missing = Geben Sie den Code aus Ihrer Authenticator-App oder einen Backup-Code ein.
err-code-missing-current = Geben Sie einen aktuellen Code von Ihrem Gerät oder einen Backup-Code ein.
err-code-sent-by-email-sms = Codes werden per email oder sms gesendet.
err-unknown-method = Unbekannte Methode: Verwenden Sie totp, hotp, email, sms, yubikey, duo oder backup_code.
err-unknown-kind = Unbekannte Methode: Verwenden Sie totp, hotp, email, sms, yubikey, duo oder webauthn.
err-method-not-for-account = Diese Methode ist für Ihr Konto nicht verfügbar.
err-method-not-enabled-for-role = Diese Methode ist für die Rolle dieses Benutzers nicht aktiviert: { $method }.

## Benutzer
err-user-not-found = Es gibt keinen Benutzer mit diesem Namen.
err-user-exists = Ein Benutzer mit diesem Namen existiert bereits.
err-username-invalid = Ein Benutzername hat 1 bis 64 Zeichen: Buchstaben, Ziffern und . _ @ + - (keine Leerzeichen oder anderen Symbole)
err-email-invalid = Das sieht nicht nach einer E-Mail-Adresse aus
err-phone-invalid = Eine Telefonnummer braucht +, die Landesvorwahl und die Nummer: insgesamt 8 bis 15 Ziffern
err-role-invalid = Eine Rolle ist client, admin oder owner.
err-role-value-invalid = Eine Rolle ist client, admin oder owner
err-email-missing = Fügen Sie dem Konto zuerst eine E-Mail-Adresse hinzu.
err-phone-missing = Fügen Sie dem Konto zuerst eine Telefonnummer hinzu.

## Geräte (Faktoren)
err-factor-not-found = Dieser Benutzer hat keinen Faktor mit dieser ID.
err-user-has-no-factor = Dieser Benutzer hat keinen Faktor dieser Art: { $method }.
err-factor-no-codes = Dieser Faktor empfängt keine Codes.
err-factor-no-qr = Dieser Faktor hat keinen QR-Code.
err-factor-cannot-confirm = Dieser Faktor kann in dieser Version nicht bestätigt werden.
err-factor-already-confirmed = Dieser Faktor ist bereits bestätigt.
err-too-many-factors = Ein Benutzer kann höchstens { $max } Faktoren haben; entfernen Sie zuerst einen.
err-last-factor = Für Ihr Konto ist die Zwei-Faktor-Authentifizierung vorgeschrieben: Fügen Sie ein weiteres Gerät hinzu, bevor Sie dieses entfernen.
err-label-invalid = Eine Bezeichnung hat 1 bis 64 Zeichen.
err-confirm-code-missing = Senden Sie zur Bestätigung den Code, den das Gerät anzeigt.
err-backup-codes-need-factor = Backup-Codes gibt es nur zu einem bestätigten Faktor; richten Sie zuerst einen ein.
err-algorithm-invalid = Der Algorithmus ist sha1, sha256 oder sha512.
err-digits-invalid = Ein Code hat 6 oder 8 Ziffern.
err-period-invalid = Das Intervall beträgt { $min } bis { $max } Sekunden.
err-otp-fields-unexpected = algorithm, digits und period gehören zu einem totp- oder hotp-Faktor.
err-hotp-no-period = Ein zählerbasiertes Token hat kein Intervall: Senden Sie nur algorithm und digits.
err-hotp-added-by-admin = Zählerbasierte Tokens fügt ein Administrator hinzu.
err-resync-hotp-only = Nur ein zählerbasiertes Token (HOTP) wird neu synchronisiert.
err-resync-not-confirmed = Dieses Token ist noch nicht bestätigt: Bestätigen Sie es stattdessen mit einem Code.
err-resync-codes-missing = Senden Sie zwei Codes, die das Token nacheinander angezeigt hat: code1 und code2.

## Sicherheitsschlüssel und Passkeys
err-credential-missing = Ein Sicherheitsschlüssel wird mit den Anmeldedaten bestätigt, die der Browser erzeugt hat: Senden Sie „credential“.
err-credential-registered = Dieser Sicherheitsschlüssel oder Passkey ist bereits registriert.
err-credential-unreadable = Die Anmeldedaten konnten nicht gelesen werden: { $reason }.
err-credential-too-large = sie sind zu groß
err-webauthn-public-url = Sicherheitsschlüssel setzen voraus, dass die öffentliche URL des Servers (public_url) einen Hostnamen hat.
err-rp-id-mismatch = Die Relying-Party-ID { $rp_id } ist weder der Host der öffentlichen URL ({ $host }) noch eine übergeordnete Domain davon: Korrigieren Sie webauthn.rp_id.
err-factor-not-security-key = Dieser Faktor ist kein Sicherheitsschlüssel.
err-factor-confirmed-with-code = Dieser Faktor wird mit einem Code bestätigt, nicht mit Anmeldedaten.
err-security-key-refused = Die Antwort des Sicherheitsschlüssels wurde abgelehnt: Versuchen Sie es erneut.
err-no-security-key = Dieser Benutzer hat keinen Sicherheitsschlüssel und keinen Passkey.

## YubiKey
err-yubikey-fields-unexpected = aes_key und private_id gehören zu einem YubiKey.
err-yubikey-secret-missing = Im lokalen Modus wird ein YubiKey mit seinem AES-Schlüssel (32 Hex-Zeichen) und seiner privaten ID (12 Hex-Zeichen) hinzugefügt, wie ykpersonalize sie ausgegeben hat.
err-yubikey-server-mode = Der YubiKey-Modus ist „server“: Die Validierungsserver halten den Schlüssel; senden Sie kein aes_key und keine private_id.
err-aes-key-invalid = Der AES-Schlüssel besteht aus 32 Hexadezimalzeichen (16 Bytes).
err-private-id-invalid = Die private ID besteht aus 12 Hexadezimalzeichen (6 Bytes).
err-yubikey-yours = Dieser YubiKey ist bereits eines der Geräte dieses Kontos.
err-yubikey-taken = Dieser YubiKey ist für ein anderes Konto registriert. Wenden Sie sich an einen Administrator.
err-yubikey-not-bound = Nur ein an eine öffentliche ID gebundener YubiKey wird auf diese Weise freigegeben.
err-client-name-invalid = Ein Client-Name hat 1 bis 64 Buchstaben, Ziffern, Punkte, Bindestriche oder Unterstriche.
err-validation-client-exists = Ein Validierungs-Client namens { $name } existiert bereits.
err-validation-client-unknown = Es gibt keinen Validierungs-Client namens { $name }.

## Duo
err-duo-unreachable = Duo ist nicht erreichbar; verwenden Sie eine andere Methode oder einen Backup-Code.
err-duo-cannot-be-used = Duo kann gerade nicht verwendet werden; verwenden Sie eine andere Methode oder einen Backup-Code.
err-duo-cannot-be-used-reason = Duo kann nicht verwendet werden: { $reason }
err-duo-check-failed = Duo konnte das nicht prüfen: { $reason }
err-duo-why-unreachable = Duo war nicht erreichbar.
err-duo-why-refused = Duo hat die Anfrage abgelehnt.
err-duo-why-invalid = Die Antwort von Duo hat die Prüfungen von Twofold nicht bestanden.
err-duo-push-timeout = Duo hat nicht bestätigt: Die Push-Anfrage wurde nicht rechtzeitig beantwortet.
err-duo-denied = Duo hat nicht bestätigt: Die Push-Anfrage wurde abgelehnt oder der Passcode war falsch.
err-duo-not-available = Duo ist für dieses Konto nicht verfügbar.
err-duo-not-set-up = Duo ist nicht eingerichtet: Hinterlegen Sie zuerst die Schlüssel für das Duo Web SDK oder die Auth API und den API-Hostnamen.
err-duo-enrolled = Dieses Konto hat bereits Duo: Ein Duo-Konto deckt alle seine Geräte ab.
err-duo-needs-email = Duo kennt dieses Konto an seiner E-Mail-Adresse: Fügen Sie dem Konto zuerst eine hinzu.
err-duo-passcode-malformed = Ein Duo-Passcode hat 6 bis 8 Ziffern; senden Sie keinen Code, um per Push zu bestätigen.
err-factor-not-duo = Dieser Faktor ist kein Duo-Faktor.
err-duo-web-sdk-missing = Die Duo-Web-SDK-Anwendung (Client-ID, Client-Secret, API-Hostname) ist nicht eingerichtet.
err-duo-auth-api-missing = Duo-Push und -Passcodes brauchen die Duo-Auth-API-Anwendung (Integration Key, Secret Key, API-Hostname).
err-duo-auth-api-confirm-missing = Um Duo über die API zu bestätigen, braucht es die Duo-Auth-API-Anwendung (Integration Key, Secret Key, API-Hostname); leiten Sie den Benutzer andernfalls zur auth_url des Faktors weiter.
err-duo-push-auth-api-missing = Duo-Push braucht die Duo-Auth-API-Anwendung (Integration Key, Secret Key, API-Hostname).
err-duo-auth-api-not-set = die Duo-Auth-API-Anwendung ist nicht eingerichtet (methods.duo.ikey, .skey, .api_host)

## RADIUS
err-radius-wrong-password = Benutzername oder Passwort ist falsch.
err-radius-expired = Diese Anmeldung hat zu lange gedauert oder wurde bereits beantwortet. Bitte beginnen Sie von vorn.
err-radius-not-enrolled = Für dieses Konto ist kein zweiter Faktor eingerichtet.
err-radius-code-not-sent = Der Code konnte nicht gesendet werden. Bitte versuchen Sie es später erneut.
radius-challenge-totp = Geben Sie den Code aus Ihrer Authenticator-App ein (oder einen Backup-Code).
radius-challenge-hotp = Drücken Sie die Taste Ihres Tokens und geben Sie seinen Code ein (oder einen Backup-Code).
radius-challenge-yubikey = Berühren Sie Ihren YubiKey (oder geben Sie einen Backup-Code ein).
radius-challenge-duo = Geben Sie einen Passcode aus Duo Mobile ein, oder lassen Sie das Feld leer, um einen Duo-Push zu erhalten.
radius-challenge-sent = Geben Sie den Code ein, den wir an { $destination } gesendet haben.
radius-challenge-backup = Geben Sie einen Backup-Code ein.
err-address-invalid = { $address } ist keine IP-Adresse und kein Netz wie 10.0.0.0/24.
err-radius-client-every-address = Ein RADIUS-Client ist eine Adresse oder ein Netz, nicht jede Adresse.
err-radius-client-no-ma-network = Ein Client, der den Message-Authenticator weglassen darf, muss eine einzelne Adresse sein, kein Netz.
err-radius-client-address-taken = Der RADIUS-Client { $name } hat bereits die Adresse { $network }.
err-radius-client-exists = Ein RADIUS-Client namens { $name } existiert bereits.
err-radius-client-unknown = Es gibt keinen RADIUS-Client namens { $name }.

## Verwaltung
err-manage-admins-owner-only = Administratoren verwalten Clients; nur ein Owner verwaltet Administratoren und Owner.
err-owner-settings-only = Nur der Owner ändert diese Einstellungen.
err-master-key-mismatch = Der Hauptschlüssel passt nicht zu dieser Datenbank: Verwenden Sie die Datei master.key, mit der die Datenbank eingerichtet wurde (kopieren Sie sie von einem anderen Knoten).
err-token-name-invalid = Ein Token-Name hat 1 bis 64 Buchstaben, Ziffern, Punkte, Bindestriche oder Unterstriche.
err-scope-invalid = Ein Token-Geltungsbereich ist admin, validate oder metrics
err-token-exists = Ein Token mit diesem Namen existiert bereits.
err-token-not-found = Es gibt kein Token mit diesem Namen.

## Einstellungen (warum ein Wert abgelehnt wird)
err-setting-unknown = unbekannte Einstellung { $key }
err-setting-invalid = ungültiger Wert für { $key }: { $reason }
err-setting-expected-bool = erwartet wird true oder false
err-setting-expected-number = erwartet wird eine ganze Zahl von { $min } bis { $max }
err-setting-expected-choice = erwartet wird einer dieser Werte: { $options }
err-setting-text-too-long = Text mit höchstens 2048 Zeichen ohne Steuerzeichen
err-setting-client-id = die Client-ID ist eine positive ganze Zahl
err-setting-base64 = der API-Schlüssel ist Base64, so wie der Validierungsdienst ihn ausgegeben hat
err-setting-server-urls = Validierungsserver-URLs beginnen mit https:// (http:// nur zu diesem Rechner) und werden durch Kommas getrennt
err-setting-duo-key = { $count } Buchstaben und Ziffern, wie im Duo-Admin-Panel angezeigt
err-setting-host-port = ein Hostname mit optionalem :Port, etwa api-xxxxxxxx.duosecurity.com (kein https://, kein Pfad)
err-setting-host-name = ein Hostname wie example.com (kein https://, kein Port, kein Pfad)
err-setting-duo-username = ein Format mit {"{"}username{"}"} oder {"{"}email{"}"}, etwa {"{"}username{"}"} oder {"{"}email{"}"}

## Die API und die Proxy-Prüfung
err-api-body-too-large = Der Anfrageinhalt überschreitet die Grenze von 2 MiB.
err-api-unreadable = Die Anfrage konnte nicht gelesen werden: { $detail }
err-api-unauthorized = Senden Sie ein gültiges API-Token als Authorization: Bearer <token>.
err-api-forbidden = Der Geltungsbereich dieses Tokens erlaubt das nicht.
err-api-no-route = Diesen API-Endpunkt gibt es nicht.
err-api-method-not-allowed = Dieser Endpunkt nimmt diese HTTP-Methode nicht an; der Allow-Header nennt die zulässigen.
err-api-refused = Die Anfrage wurde abgelehnt.
err-api-body-timeout = Der Anfrageinhalt ist nicht rechtzeitig angekommen.
err-code-or-credential = Senden Sie entweder einen Code oder Anmeldedaten, nicht beides.
err-webauthn-credential-missing = Ein Sicherheitsschlüssel antwortet mit „credential“: dem, was navigator.credentials.get() geliefert hat, so wie es dessen toJSON() ausgibt.
err-webauthn-credential-with-code = Anmeldedaten gehören zu "method": "webauthn" und ohne Code.
err-setting-value-type = { $key }: Eine Einstellung ist ein Wahrheitswert, eine ganze Zahl oder eine Zeichenkette
err-forward-untrusted-proxy = Nur ein vertrauenswürdiger Proxy darf anfragen (TWOFOLD_TRUSTED_PROXIES).
err-forward-bad-target = Die URL der ursprünglichen Anfrage kann nicht gelesen werden
err-forward-headers-missing = Der Proxy muss { $headers } senden.
err-forward-denied = Sie sind angemeldet, haben hier aber keinen Zugriff.
err-forward-sign-in = Melden Sie sich zuerst an.

## Zustellung von E-Mails und SMS
err-email-not-set-up = Der E-Mail-Versand ist auf diesem Server nicht eingerichtet.
err-sms-not-set-up = Der SMS-Versand ist auf diesem Server nicht eingerichtet.
err-outbox-write = Die Nachricht konnte nicht in den Outbox-Ordner geschrieben werden.
err-email-not-sent = Die E-Mail konnte nicht gesendet werden: { $problem }.
err-email-tls-setup = eine sichere Verbindung zum Mailserver konnte nicht eingerichtet werden
err-email-from-invalid = die Absenderadresse in den E-Mail-Einstellungen ist ungültig
err-email-to-invalid = die Empfängeradresse ist ungültig
err-email-build = die Nachricht konnte nicht zusammengestellt werden
err-email-server-busy = der Mailserver ist ausgelastet, versuchen Sie es später erneut
err-email-auth-required = der Mailserver verlangt Benutzername und Passwort
err-email-auth-refused = der Mailserver hat Benutzername oder Passwort abgelehnt
err-email-refused = der Mailserver hat die Nachricht abgelehnt
err-email-no-starttls = der Mailserver bietet kein STARTTLS an
err-email-no-auth = der Mailserver nimmt auf dieser Verbindung keinen Benutzernamen und kein Passwort an
err-email-cannot-take = der Mailserver kann diese Nachricht nicht annehmen
err-email-bad-answer = die Antwort des Mailservers war unverständlich
err-email-no-answer = der Mailserver hat nicht geantwortet
err-email-tls-failed = eine sichere Verbindung zum Mailserver kam nicht zustande (prüfen Sie die Sicherheitseinstellung und das Zertifikat des Servers)
err-sms-region-invalid = Die SMS konnte nicht gesendet werden: Die AWS-Region in den SNS-Einstellungen ist ungültig.
err-sms-number-invalid = Die SMS konnte nicht gesendet werden: Die Telefonnummer ist nicht im internationalen Format (+ und Landesvorwahl).
err-sms-url-invalid = Die SMS konnte nicht gesendet werden: Die URL des SMS-Anbieters in den Einstellungen ist ungültig.
err-sms-provider-failed = Der SMS-Anbieter konnte die Nachricht nicht annehmen (HTTP { $status }).
err-sms-provider-refused = Der SMS-Anbieter hat die Nachricht abgelehnt (HTTP { $status }).
err-sms-no-answer = Die SMS konnte nicht gesendet werden: Der SMS-Anbieter hat nicht geantwortet.
err-sms-tls-failed = Die SMS konnte nicht gesendet werden: Eine sichere Verbindung zum SMS-Anbieter kam nicht zustande.
err-sms-unreachable = Die SMS konnte nicht gesendet werden: Der SMS-Anbieter war nicht erreichbar.
err-sms-connection-failed = Die SMS konnte nicht gesendet werden: Die Verbindung zum SMS-Anbieter ist fehlgeschlagen.
