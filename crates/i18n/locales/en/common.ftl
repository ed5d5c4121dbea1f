# Shared by every page: the layout, the language menu, generic pages.
-brand = Twofold
skip-to-content = Skip to content
nav-main = Main
nav-security = Security Settings
nav-admin = Admin
signed-in-as = Signed in as { $username }
signing-in-as = Signing in as { $username }
log-out = Log out
footer = Twofold · two-factor authentication
language = Language
language-change = Change
language-menu = Choose a language
backup-codes-left = { $count ->
    [one] { $count } unused backup code left.
   *[other] { $count } unused backup codes left.
}
language-label = Language of pages, emails and text messages
language-browser = The browser's language
language-help = Pages, emails and text messages are in this language. "The browser's language" follows your browser's setting.
language-save = Save language
language-unknown-title = Unknown language
language-unknown = Choose one of the languages in the list.
back-to-security = Back to Security Settings
go-to-start = Go to the start page
no-access-title = No access
no-access = You do not have access to this page.
not-found-title = Not found
not-found = There is no such page.
form-refused-title = Form refused
form-refused = The form expired or was not sent from this site. Go back, reload the page and try again.
internal-title = Something went wrong
internal = Something went wrong on the server; the details are in its log.

## Notices shown at the top of a page after an action
notice-owner-created = Owner account created. Log in.
notice-logged-out = You have logged out.
notice-expired = Your login took too long. Please start again.
notice-device-added = Device added.
notice-device-removed = Device removed.
notice-twofa-off = Two-factor authentication is off.
notice-reset-done = 2FA was reset.
notice-unlocked = The second factor was unlocked.
notice-disabled = The account was disabled.
notice-enabled = The account was enabled.
notice-settings-saved = Settings saved.
notice-login-required = Please log in.
notice-duo-failed = Duo did not confirm this login. Please log in and try again.
notice-signed-out-everywhere = You have signed out everywhere. Log in again.
notice-session-ended = That session was signed out.
notice-browser-forgotten = That browser is forgotten: its next sign-in asks for the second factor again.
notice-password-changed = Your password was changed, and every session signed out. Log in with the new password.
notice-signed-out = Your session ended. Log in again.
notice-last-device-removed = Device removed. That was your last one, so every session signed out. Log in again.
notice-twofa-off-signed-out = Two-factor authentication is off, and every session signed out. Log in again.
notice-language-saved = Language saved.

## The methods, and what the second-factor and enrolment pages offer
kind-totp = Time Based Tokens
kind-email = Email codes
kind-sms = SMS codes
kind-yubikey = YubiKey
kind-duo = Duo Security
kind-webauthn = Security key or passkey
kind-hotp = Counter-based tokens
offer-method = { $kind ->
    [totp] { kind-totp }
    [email] { kind-email }
    [sms] { kind-sms }
    [yubikey] { kind-yubikey }
    [duo] { kind-duo }
    [webauthn] { kind-webauthn }
   *[hotp] { kind-hotp }
} ({ $label })
offer-send-email = Send me a code by email ({ $to })
offer-send-sms = Send me a code by SMS ({ $to })
offer-help-totp = An app on your phone, such as Google Authenticator, Duo Mobile or Authy, shows a new 6-digit code every 30 seconds.
offer-help-email = A 6-digit code sent to { $to } each time you log in.
offer-help-sms = A 6-digit code sent by text message to { $to } each time you log in.
offer-help-yubikey = A YubiKey: plug it in and touch it; it types a one-time code.
offer-help-duo = Duo Security: approve each login in Duo Mobile (or with another Duo method). You set it up at Duo's own prompt.
offer-help-webauthn = A security key (such as a YubiKey) or a passkey on your phone, computer or password manager: touch it or unlock it to sign in.
offer-help-hotp = A token that shows a new code each time you press its button.
offer-help-touch-key = Touch your YubiKey: it types its code and submits.
offer-help-key-or-backup = Use your security key or passkey, or enter a backup code.
offer-help-duo-or-backup = Use Log in with Duo below, or a backup code.
offer-way-totp = { $position ->
    [first] { $other ->
        [0] The { $digits }-digit code your authenticator app shows now.
       *[other] The { $digits }- or { $other }-digit code your authenticator app shows now.
    }
   *[more] { $other ->
        [0] Or enter the { $digits }-digit code your authenticator app shows now.
       *[other] Or enter the { $digits }- or { $other }-digit code your authenticator app shows now.
    }
}
offer-way-hotp = { $position ->
    [first] { $other ->
        [0] The { $digits }-digit code your token shows when you press its button.
       *[other] The { $digits }- or { $other }-digit code your token shows when you press its button.
    }
   *[more] { $other ->
        [0] Or enter the { $digits }-digit code your token shows when you press its button.
       *[other] Or enter the { $digits }- or { $other }-digit code your token shows when you press its button.
    }
}
offer-way-sent = { $position ->
    [first] The 6-digit code we sent you.
   *[more] Or enter the 6-digit code we sent you.
}
offer-way-duo = { $position ->
    [first] A passcode from Duo Mobile.
   *[more] Or enter a passcode from Duo Mobile.
}
