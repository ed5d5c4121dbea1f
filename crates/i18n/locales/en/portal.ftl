# The portal's pages: logging in, the second factor, enrolment, Security Settings.
portal-cancel = Cancel
server-time = Server time:
clock-ahead = Your device's clock differs from the server's by about { $seconds } seconds (ahead). If codes are refused, set your phone's clock to update automatically.
clock-behind = Your device's clock differs from the server's by about { $seconds } seconds (behind). If codes are refused, set your phone's clock to update automatically.

## Kinds of factor, as pages name them
factor-key-synced = synced passkey
factor-key-device-bound = device-bound

## Security keys and passkeys (the page's script shows these)
webauthn-unsupported = This browser does not support security keys or passkeys. Use another browser, or another method.
webauthn-unreadable = The page could not be read. Reload it and try again.
webauthn-cancelled = The security key request was cancelled or timed out. Try again when you are ready.
webauthn-registered = This security key or passkey is already registered to your account.
webauthn-insecure = This address cannot use security keys: open the server by its host name over https (or http://localhost).
# $detail: the browser's name for the failure in brackets, or nothing.
webauthn-no-answer = Your security key or passkey did not answer{ $detail }. Try again, or use another method.
webauthn-answer-too-large = The security key's answer is too large.

## Log in
login-title = Log in
login-username = Username
login-password = Password
login-submit = Log in
login-passkey = Sign in with a passkey

## The second factor
second-factor-title = Two-factor authentication
second-factor-backup-intro = Enter one of the backup codes you recorded when you set up two-factor authentication. Each code works once.
second-factor-backup-code = Backup code
second-factor-verify = Verify
second-factor-use-device = Enter a code from your device instead
second-factor-protected-by = Your account is protected by:
second-factor-duo-help = Duo Security asks you to approve this login on your phone (or with another Duo method).
second-factor-duo = Log in with Duo
second-factor-key = Use your security key or passkey
second-factor-code = Authentication code
second-factor-use-backup = Use a backup code
second-factor-remember = { $days ->
    [one] Remember this browser for { $days } day
   *[other] Remember this browser for { $days } days
}
second-factor-locked = Too many failed attempts: your second factor is locked for a while. Try again later or ask an administrator to unlock it.
second-factor-key-refused = Your security key or passkey was not accepted. Try again, or use another method.
second-factor-wrong-code = The code you entered did not match what was expected. Please try again.
second-factor-code-sent = We sent a code to { $destination }. Enter it below.
duo-refused-not-confirmed = Duo did not confirm this login. Please try again.
duo-refused-used = This Duo answer was already used or has expired. Please try again.
duo-refused-device-not-confirmed = Duo did not confirm this device. Please try again.
duo-refused-not-pending = This Duo device is no longer waiting to be set up.

## Adding a device
enroll-choose-title = Choose a service
enroll-required = Two-factor authentication is required for your account. Set it up to continue.
enroll-none = No two-factor method is enabled for your account. Ask an administrator.
enroll-service = Service
enroll-yubikey-aes = YubiKey AES key
enroll-yubikey-aes-help = (32 hexadecimal characters, as ykpersonalize printed it)
enroll-yubikey-private-id = Private id
enroll-yubikey-private-id-help = (12 hexadecimal characters)
enroll-device-name = Device name
enroll-device-name-default = Authenticator app
enroll-start = Get Started
enroll-scan-title = Scan the QR code
enroll-scan-intro = Scan this QR code with an authenticator app, such as Google Authenticator, Duo Mobile, Authy or 1Password. If you cannot scan it, enter the key below instead.
enroll-scan-qr-alt = QR code for your authenticator app
enroll-scan-key = Key:
enroll-device = Device: { $label }
enroll-enter-code = Enter the 6-digit code
enroll-submit = Submit
enroll-verify-title = Enter the code we sent
# The sentence around the masked address or number (shown in bold between them).
enroll-verify-sent-before = We sent a 6-digit code to
enroll-verify-sent-after = {""}. It works once, for a few minutes.
enroll-resend = Send a new code
enroll-resent = We sent a new code to { $destination }.
enroll-touch-title = Touch your YubiKey
enroll-touch-intro = Insert your YubiKey ({ $label }), click in the box below and touch the key. It types a one-time code and submits it; that binds this key to your account.
enroll-touch-code = YubiKey code
enroll-key-title = Register your security key or passkey
enroll-key-intro = Click Continue: your browser asks you to touch your security key, or to unlock the passkey on this device, your phone or your password manager. That registers it to your account.
enroll-key-noscript = Security keys and passkeys are reached through a script of your browser's: turn on JavaScript for this page, or choose another method.
enroll-duo-title = Continue to Duo
enroll-duo-intro = Duo Security sets up your device ({ $label }) on its own page. Continue to Duo, follow its steps and approve the login there; you come back here when it is done, and Duo is then one of your ways to log in.
duo-done-title = Duo is set up
duo-done-intro = Duo Security is now a way to log in for { $username }. You can close this page.
duo-done-codes = Record these backup codes in a safe place. Each works once, and they are the way in if you lose your device. They will not be shown again.

## Backup codes
codes-fresh-title = Record your backup codes
codes-view-title = Your backup codes
codes-fresh = Record these backup codes in a safe place. Each works once, and they are the way in if you lose your device. They will not be shown again unless you enter your password.
codes-used = Used codes are struck through.
codes-copy = Copy to clipboard
codes-copied = Copied
codes-copy-failed = Copy failed
codes-download = Download
codes-close = Close
# The first line of the downloaded file.
codes-file-header = Twofold backup codes. Each works once.

## First run
setup-title = Create the owner account
setup-intro = The owner is the full administrator: they manage the 2FA settings, admins and API tokens. This link works once.
setup-email = Email (optional)
setup-password-again = Confirm password
setup-submit = Create owner account
setup-password-mismatch = The two passwords are not the same.
setup-link-title = Setup link
setup-link-gone = This setup link is no longer valid.

## Confirm it is you
step-up-title = Confirm it is you
# $action: what the user is about to do; $proof: what the password must come with.
step-up-intro = { $action ->
        [remove] To remove a device
        [new-codes] To get new backup codes
        [view-codes] To see your backup codes
        [disable] To turn two-factor authentication off
       *[enroll] To add a device
    }, enter your password{ $proof ->
        [code] {" "}and a current code from one of your devices (or a backup code)
        [key] {" "}and a current code from one of your devices (or a backup code), or use your security key
       *[none] {""}
    }. You will not be asked again for 5 minutes.
step-up-code = A current code or a backup code
step-up-continue = Continue
step-up-password-missing = Enter your password.

## Log out
logout-intro = Sign out of Twofold in this browser? Every application that relies on this sign-in will ask you to sign in again.

## Security Settings
security-twofa-on = Two-factor authentication is on
security-twofa-on-help = When you log in, Twofold asks for a code from one of these devices after your password.
security-devices = Your devices
security-col-device = Device
security-col-method = Method
security-col-added = Added
security-col-last-used = Last used
security-col-action = Action
security-not-confirmed = not confirmed
security-remove = Remove
security-remove-label = Remove { $label }
security-add-device = Add another device
security-twofa-off = Two-factor authentication is off
security-twofa-off-help = Add a second step to your login: a code from your phone after your password, so a leaked password alone is not enough.
security-enable = Enable two-factor authentication
security-backup = Backup codes
security-backup-help = Use one when you do not have your device.
security-view-codes = View backup codes
security-new-codes-help = New codes replace the old ones, which stop working.
security-new-codes = Get new codes
security-turn-off = Turn off
security-required = Two-factor authentication is required for your account.
security-turn-off-help = Turning it off removes all your devices and backup codes, and signs you out everywhere, this browser included.
security-turn-off-submit = Turn off two-factor authentication
security-password-help = Changing your password signs you out everywhere, this browser included.
security-current-password = Current password
security-new-password = New password
security-new-password-again = New password again
security-change-password = Change password
security-password-mismatch = The new passwords do not match.
security-sessions = Active sessions
security-sessions-caption = Where you are signed in
security-col-browser = Browser
security-col-ip = IP address
security-col-signed-in = Signed in
security-this-browser = this browser
security-signing-in = signing in
security-ip-unknown = unknown
security-sign-out = Sign out
security-sign-out-label = Sign out { $browser }
security-browsers = Remembered browsers
security-no-browsers = No browser is remembered. Tick "Remember this browser" when you enter a code, and that browser asks only for your password for a while.
security-browsers-caption = These browsers sign you in with your password alone
security-col-remembered = Remembered
security-col-until = Until
security-forget = Forget
security-forget-label = Forget { $browser }
security-end-all-help = Signs out every session, this one too, and forgets every remembered browser.
security-end-all = Sign out everywhere

## What the second-factor and enrolment pages offer
# $method: the kind of factor; $label: the name the user gave it.
# The ways to fill the code box, listed with code-help-or; $digits: "6", or code-help-digits-or.
# $ways: the list above, its first letter upper-case.
