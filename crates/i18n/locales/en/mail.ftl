# Emails and text messages, in the recipient's language.
mail-code-subject-login = Your { $issuer } login code
mail-code-subject-verification = Your { $issuer } verification code
mail-code-intro-login = Your { $issuer } login code is:
mail-code-intro-verification = Your { $issuer } verification code is:
mail-code-validity = { $minutes ->
    [one] It works once and for { $minutes } minute. If you did not ask for it, someone may know your password: change it.
   *[other] It works once and for { $minutes } minutes. If you did not ask for it, someone may know your password: change it.
}
sms-code-login = { $minutes ->
    [one] Your { $issuer } login code is { $code }. It works once, for { $minutes } minute.
   *[other] Your { $issuer } login code is { $code }. It works once, for { $minutes } minutes.
}
sms-code-verification = { $minutes ->
    [one] Your { $issuer } verification code is { $code }. It works once, for { $minutes } minute.
   *[other] Your { $issuer } verification code is { $code }. It works once, for { $minutes } minutes.
}
mail-lockout-subject = { $issuer }: your second factor was locked
mail-lockout-greeting = Hello { $username },
mail-lockout-body = There were too many wrong second-factor codes for your { $issuer } account, so your second factor is locked until { $until } UTC.
mail-lockout-advice = If that was not you, someone knows your password: change it, and tell an administrator.
