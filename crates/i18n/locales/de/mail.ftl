mail-code-subject-login = Ihr Anmeldecode für { $issuer }
mail-code-subject-verification = Ihr Bestätigungscode für { $issuer }
mail-code-intro-login = Ihr Anmeldecode für { $issuer } lautet:
mail-code-intro-verification = Ihr Bestätigungscode für { $issuer } lautet:
mail-code-validity = { $minutes ->
    [one] Er gilt einmal und { $minutes } Minute lang. Wenn Sie ihn nicht angefordert haben, kennt womöglich jemand Ihr Passwort: Ändern Sie es.
   *[other] Er gilt einmal und { $minutes } Minuten lang. Wenn Sie ihn nicht angefordert haben, kennt womöglich jemand Ihr Passwort: Ändern Sie es.
}
sms-code-login = { $minutes ->
    [one] Ihr Anmeldecode für { $issuer } lautet { $code }. Er gilt einmal, { $minutes } Minute lang.
   *[other] Ihr Anmeldecode für { $issuer } lautet { $code }. Er gilt einmal, { $minutes } Minuten lang.
}
sms-code-verification = { $minutes ->
    [one] Ihr Bestätigungscode für { $issuer } lautet { $code }. Er gilt einmal, { $minutes } Minute lang.
   *[other] Ihr Bestätigungscode für { $issuer } lautet { $code }. Er gilt einmal, { $minutes } Minuten lang.
}
mail-lockout-subject = { $issuer }: Ihr zweiter Faktor wurde gesperrt
mail-lockout-greeting = Hallo { $username },
mail-lockout-body = Für Ihr Konto bei { $issuer } wurden zu viele falsche Codes für den zweiten Faktor eingegeben. Ihr zweiter Faktor ist daher bis { $until } UTC gesperrt.
mail-lockout-advice = Wenn Sie das nicht waren, kennt jemand Ihr Passwort: Ändern Sie es und informieren Sie einen Administrator.
