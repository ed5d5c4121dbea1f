mail-code-subject-login = Su código de inicio de sesión de { $issuer }
mail-code-subject-verification = Su código de verificación de { $issuer }
mail-code-intro-login = Su código de inicio de sesión de { $issuer } es:
mail-code-intro-verification = Su código de verificación de { $issuer } es:
mail-code-validity = { $minutes ->
    [one] Sirve una sola vez y durante { $minutes } minuto. Si no lo pidió, es posible que alguien conozca su contraseña: cámbiela.
   *[other] Sirve una sola vez y durante { $minutes } minutos. Si no lo pidió, es posible que alguien conozca su contraseña: cámbiela.
}
sms-code-login = { $minutes ->
    [one] Su código de inicio de sesión de { $issuer } es { $code }. Sirve una sola vez, durante { $minutes } minuto.
   *[other] Su código de inicio de sesión de { $issuer } es { $code }. Sirve una sola vez, durante { $minutes } minutos.
}
sms-code-verification = { $minutes ->
    [one] Su código de verificación de { $issuer } es { $code }. Sirve una sola vez, durante { $minutes } minuto.
   *[other] Su código de verificación de { $issuer } es { $code }. Sirve una sola vez, durante { $minutes } minutos.
}
mail-lockout-subject = { $issuer }: se bloqueó su segundo factor
mail-lockout-greeting = Hola, { $username }:
mail-lockout-body = Se introdujeron demasiados códigos incorrectos del segundo factor de su cuenta de { $issuer }, así que su segundo factor está bloqueado hasta el { $until } UTC.
mail-lockout-advice = Si no fue usted, alguien conoce su contraseña: cámbiela y avise a un administrador.
