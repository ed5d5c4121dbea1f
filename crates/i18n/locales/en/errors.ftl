# Errors and refusals: the API's `message`, form errors on pages, RADIUS Reply-Messages.
# Ids are err-<what>; variables are values (names, numbers), never sentences of their own.

## Signing in and out
err-credentials-wrong = Incorrect username or password.
err-password-wrong = The password is not right.
err-current-password-wrong = Your current password is not right.
err-password-length = A password has { $min } to { $max } characters.
err-account-disabled = This account is disabled.
err-2fa-required = Two-factor authentication is required for your account.
err-set-up-2fa-first = Set up two-factor authentication first.
err-finish-login-first = Finish logging in first.
err-login-not-waiting-code = This login is not waiting for a code.
err-login-not-waiting-second-factor = This login is not waiting for a second factor.
err-login-already-completed = This login was already completed.
err-login-not-enrolling = This login is not enrolling.
err-setup-link-invalid = This setup link is no longer valid.
err-passkey-unknown = This passkey was not accepted: it is not registered here, or this sign-in expired. Try again, or sign in with your password.
err-passkey-refused = Your passkey's answer was refused. Please try again.
err-passwordless-disabled = Passwordless sign-in is not enabled on this server.

## Throttling and locks
err-server-busy = The server is busy. Try again in a moment.
err-too-many-attempts-wait = Too many failed attempts. Try again in { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}.
err-code-sent-recently = A code was sent recently. You can ask for a new one in { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}.
err-locked = Too many failed attempts: your second factor is locked for a while.
err-locked-ask-admin = Too many failed attempts: your second factor is locked for a while. Try again later or ask an administrator to unlock it.
err-locked-unlock-first = Too many failed codes: this user's second factor is locked for a while. Unlock the user first.

## Confirming it is you before a sensitive action
err-step-up-remove-device = Confirm it is you to remove a device: enter your password and a current code.
err-step-up-new-backup-codes = Confirm it is you to get new backup codes: enter your password and a current code.
err-step-up-view-backup-codes = Confirm it is you to see your backup codes: enter your password and a current code.
err-step-up-disable-2fa = Confirm it is you to turn two-factor authentication off: enter your password and a current code.
err-step-up-change-contact = Confirm it is you to change your email address or phone number: enter your password and a current code.
err-step-up-add-device = Confirm it is you to add a device: enter your password and a current code.

## Codes
err-code-malformed = That is not a code: enter the 6-digit code from your app or a 10-character backup code.
err-code-wrong = The code you entered did not match what was expected. Please try again.
err-code-missing = Enter the code from your authenticator app or a backup code.
err-code-missing-current = Enter a current code from your device or a backup code.
err-code-sent-by-email-sms = A code is sent by email or sms.
err-unknown-method = Unknown method: use totp, hotp, email, sms, yubikey, duo or backup_code.
err-unknown-kind = Unknown method: use totp, hotp, email, sms, yubikey, duo or webauthn.
err-method-not-for-account = That method is not available for your account.
err-method-not-enabled-for-role = { $method } is not enabled for this user's role.

## Users
err-user-not-found = There is no user by that name.
err-user-exists = A user with that name already exists.
err-username-invalid = a username is 1 to 64 characters: letters, digits and . _ @ + - (no spaces or other symbols)
err-email-invalid = that does not look like an email address
err-phone-invalid = a phone number needs +, the country code and the number: 8 to 15 digits in all
err-role-invalid = A role is client, admin or owner.
err-role-value-invalid = a role is client, admin or owner
err-email-missing = Add an email address to the account first.
err-phone-missing = Add a phone number to the account first.

## Devices (factors)
err-factor-not-found = This user has no factor with that id.
err-user-has-no-factor = This user has no { $method } factor.
err-factor-no-codes = This factor does not receive codes.
err-factor-no-qr = This factor has no QR code.
err-factor-cannot-confirm = This factor cannot be confirmed in this version.
err-factor-already-confirmed = This factor is already confirmed.
err-too-many-factors = A user may hold at most { $max } factors; remove one first.
err-last-factor = Two-factor authentication is required for your account: add another device before you remove this one.
err-label-invalid = A label has 1 to 64 characters.
err-confirm-code-missing = Send the code from the device to confirm it.
err-backup-codes-need-factor = Backup codes come with a confirmed factor; enrol one first.
err-algorithm-invalid = The algorithm is sha1, sha256 or sha512.
err-digits-invalid = A code has 6 or 8 digits.
err-period-invalid = The period is { $min } to { $max } seconds.
err-otp-fields-unexpected = algorithm, digits and period belong to a totp or hotp factor.
err-hotp-no-period = A counter-based token has no period: send algorithm and digits only.
err-hotp-added-by-admin = Counter-based tokens are added by an administrator.
err-resync-hotp-only = Only a counter-based token (HOTP) is resynchronised.
err-resync-not-confirmed = This token is not confirmed yet: confirm it with one code instead.
err-resync-codes-missing = Send two codes the token showed one after the other: code1 and code2.

## Security keys and passkeys
err-credential-missing = A security key is confirmed with the credential the browser made: send "credential".
err-credential-registered = This security key or passkey is already registered.
err-credential-unreadable = The credential could not be read: { $reason }.
err-credential-too-large = it is too large
err-webauthn-public-url = Security keys need the server's public URL (public_url) to be a host name.
err-rp-id-mismatch = The relying party ID { $rp_id } is neither the public URL's host { $host } nor a parent domain of it: correct webauthn.rp_id.
err-factor-not-security-key = This factor is not a security key.
err-factor-confirmed-with-code = This factor is confirmed with a code, not a credential.
err-security-key-refused = The security key's answer was refused: try again.
err-no-security-key = This user has no security key or passkey.

## YubiKey
err-yubikey-fields-unexpected = aes_key and private_id belong to a YubiKey.
err-yubikey-secret-missing = In local mode a YubiKey is added with its AES key (32 hex) and private id (12 hex), as ykpersonalize printed them.
err-yubikey-server-mode = The YubiKey mode is server: the validation servers hold the key; send no aes_key or private_id.
err-aes-key-invalid = The AES key is 32 hexadecimal characters (16 bytes).
err-private-id-invalid = The private id is 12 hexadecimal characters (6 bytes).
err-yubikey-yours = This YubiKey is already one of this account's devices.
err-yubikey-taken = This YubiKey is registered to another account. Ask an administrator.
err-yubikey-not-bound = Only a YubiKey bound to a public id is released this way.
err-client-name-invalid = A client name has 1 to 64 letters, digits, dots, dashes or underscores.
err-validation-client-exists = A validation client named { $name } exists.
err-validation-client-unknown = No validation client named { $name }.

## Duo
err-duo-unreachable = Duo is unreachable; try another method or a backup code.
err-duo-cannot-be-used = Duo cannot be used right now; try another method or a backup code.
err-duo-cannot-be-used-reason = Duo cannot be used: { $reason }
err-duo-check-failed = Duo could not check this: { $reason }
err-duo-why-unreachable = Duo could not be reached.
err-duo-why-refused = Duo refused the request.
err-duo-why-invalid = Duo's answer did not pass Twofold's checks.
err-duo-push-timeout = Duo did not confirm: the push was not answered in time.
err-duo-denied = Duo did not confirm: the push was denied or the passcode was wrong.
err-duo-not-available = Duo is not available for this account.
err-duo-not-set-up = Duo is not set up: set the Duo Web SDK or Auth API keys and the API hostname first.
err-duo-enrolled = This account already has Duo: one Duo account serves all its devices.
err-duo-needs-email = Duo knows this account by its email address: add one to the account first.
err-duo-passcode-malformed = A Duo passcode is 6 to 8 digits; send no code to confirm with a push.
err-factor-not-duo = This factor is not a Duo factor.
err-duo-web-sdk-missing = The Duo Web SDK application (client ID, client secret, API hostname) is not set.
err-duo-auth-api-missing = Duo pushes and passcodes need the Duo Auth API application (integration key, secret key, API hostname).
err-duo-auth-api-confirm-missing = Confirming Duo through the API needs the Duo Auth API application (integration key, secret key, API hostname); otherwise send the user to the factor's auth_url.
err-duo-push-auth-api-missing = Duo pushes need the Duo Auth API application (integration key, secret key, API hostname).
err-duo-auth-api-not-set = the Duo Auth API application is not set (methods.duo.ikey, .skey, .api_host)

## RADIUS
err-radius-wrong-password = Wrong username or password.
err-radius-expired = This sign-in took too long or was already answered. Please start again.
err-radius-not-enrolled = No second factor is set up for this account.
err-radius-code-not-sent = The code could not be sent. Please try again later.
radius-challenge-totp = Enter the code from your authenticator app (or a backup code).
radius-challenge-hotp = Press your token's button and enter its code (or a backup code).
radius-challenge-yubikey = Touch your YubiKey (or enter a backup code).
radius-challenge-duo = Enter a passcode from Duo Mobile, or leave it empty to get a Duo push.
radius-challenge-sent = Enter the code we sent to { $destination }.
radius-challenge-backup = Enter a backup code.
err-address-invalid = { $address } is not an IP address or a network such as 10.0.0.0/24.
err-radius-client-every-address = A RADIUS client is an address or a network, not every address.
err-radius-client-no-ma-network = A client that may omit the Message-Authenticator must be one address, not a network.
err-radius-client-address-taken = The RADIUS client { $name } has the address { $network } already.
err-radius-client-exists = A RADIUS client named { $name } exists.
err-radius-client-unknown = No RADIUS client named { $name }.

## Administration
err-manage-admins-owner-only = Admins manage clients; only an owner manages admins and owners.
err-owner-settings-only = Only the owner changes these settings.
err-master-key-mismatch = The master key does not match this database: use the master.key file the database was set up with (copy it from another node).
err-token-name-invalid = A token name has 1 to 64 letters, digits, dots, dashes or underscores.
err-scope-invalid = a token scope is admin, validate or metrics
err-token-exists = A token with that name already exists.
err-token-not-found = There is no token by that name.

## Settings (the reason a value is refused)
err-setting-unknown = unknown setting { $key }
err-setting-invalid = invalid value for { $key }: { $reason }
err-setting-expected-bool = expected true or false
err-setting-expected-number = expected a whole number from { $min } to { $max }
err-setting-expected-choice = expected one of { $options }
err-setting-text-too-long = text of at most 2048 characters without control characters
err-setting-client-id = the client id is a positive whole number
err-setting-base64 = the API key is base64, as the validation service gave it
err-setting-server-urls = validation server URLs start with https:// (http:// only to this machine), separated by commas
err-setting-duo-key = { $count } letters and digits, as Duo's admin panel shows it
err-setting-host-port = a host name with an optional :port, like api-xxxxxxxx.duosecurity.com (no https://, no path)
err-setting-host-name = a host name like example.com (no https://, no port, no path)
err-setting-duo-username = a format with {"{"}username{"}"} or {"{"}email{"}"}, like {"{"}username{"}"} or {"{"}email{"}"}

## The API and the proxy check
err-api-body-too-large = The request body is over the 2 MiB limit.
err-api-unreadable = The request could not be read: { $detail }
err-api-unauthorized = Send a valid API token as Authorization: Bearer <token>.
err-api-forbidden = This token's scope does not allow that.
err-api-no-route = There is no such API endpoint.
err-api-method-not-allowed = This endpoint does not accept that HTTP method; the Allow header lists those it does.
err-api-refused = The request was refused.
err-api-body-timeout = The request body did not arrive in time.
err-code-or-credential = Send either a code or a credential, not both.
err-webauthn-credential-missing = A security key answers with "credential": what navigator.credentials.get() gave, as its toJSON() gives it.
err-webauthn-credential-with-code = A credential goes with "method": "webauthn" and no code.
err-setting-value-type = { $key }: a setting is a boolean, a whole number or a string
err-forward-untrusted-proxy = Only a trusted proxy may ask (TWOFOLD_TRUSTED_PROXIES).
err-forward-bad-target = the original request's URL cannot be read
err-forward-headers-missing = The proxy must send { $headers }.
err-forward-denied = You are signed in but not allowed here.
err-forward-sign-in = Sign in first.

## Email and SMS delivery
err-email-not-set-up = Email delivery is not set up on this server.
err-sms-not-set-up = SMS delivery is not set up on this server.
err-outbox-write = The message could not be written to the outbox folder.
err-email-not-sent = The email could not be sent: { $problem }.
err-email-tls-setup = a secure connection to the mail server could not be set up
err-email-from-invalid = the From address in the email settings is not valid
err-email-to-invalid = the recipient address is not valid
err-email-build = the message could not be put together
err-email-server-busy = the mail server is busy, try again later
err-email-auth-required = the mail server requires a user name and password
err-email-auth-refused = the mail server refused the user name or password
err-email-refused = the mail server refused the message
err-email-no-starttls = the mail server does not offer STARTTLS
err-email-no-auth = the mail server does not accept a user name and password on this connection
err-email-cannot-take = the mail server cannot take this message
err-email-bad-answer = the mail server's answer could not be understood
err-email-no-answer = the mail server did not answer
err-email-tls-failed = a secure connection to the mail server could not be made (check the security setting and the server's certificate)
err-sms-region-invalid = The SMS could not be sent: the AWS region in the SNS settings is not valid.
err-sms-number-invalid = The SMS could not be sent: the phone number is not in international format (+ and the country code).
err-sms-url-invalid = The SMS could not be sent: the SMS provider's URL in the settings is not valid.
err-sms-provider-failed = The SMS provider could not take the message (HTTP { $status }).
err-sms-provider-refused = The SMS provider refused the message (HTTP { $status }).
err-sms-no-answer = The SMS could not be sent: the SMS provider did not answer.
err-sms-tls-failed = The SMS could not be sent: a secure connection to the SMS provider could not be made.
err-sms-unreachable = The SMS could not be sent: the SMS provider could not be reached.
err-sms-connection-failed = The SMS could not be sent: the connection to the SMS provider failed.
