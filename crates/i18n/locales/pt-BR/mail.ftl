mail-code-subject-login = Seu código de login do { $issuer }
mail-code-subject-verification = Seu código de verificação do { $issuer }
mail-code-intro-login = Seu código de login do { $issuer } é:
mail-code-intro-verification = Seu código de verificação do { $issuer } é:
mail-code-validity = { $minutes ->
    [one] Ele vale uma única vez, por { $minutes } minuto. Se você não o pediu, talvez alguém saiba sua senha: troque-a.
   *[other] Ele vale uma única vez, por { $minutes } minutos. Se você não o pediu, talvez alguém saiba sua senha: troque-a.
}
sms-code-login = { $minutes ->
    [one] Seu código de login do { $issuer } é { $code }. Vale uma única vez, por { $minutes } minuto.
   *[other] Seu código de login do { $issuer } é { $code }. Vale uma única vez, por { $minutes } minutos.
}
sms-code-verification = { $minutes ->
    [one] Seu código de verificação do { $issuer } é { $code }. Vale uma única vez, por { $minutes } minuto.
   *[other] Seu código de verificação do { $issuer } é { $code }. Vale uma única vez, por { $minutes } minutos.
}
mail-lockout-subject = { $issuer }: seu segundo fator foi bloqueado
mail-lockout-greeting = Olá, { $username },
mail-lockout-body = Foram digitados códigos errados demais para o segundo fator da sua conta do { $issuer }, então seu segundo fator está bloqueado até { $until } UTC.
mail-lockout-advice = Se não foi você, alguém sabe sua senha: troque-a e avise um administrador.
