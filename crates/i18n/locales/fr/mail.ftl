mail-code-subject-login = Votre code de connexion { $issuer }
mail-code-subject-verification = Votre code de vérification { $issuer }
mail-code-intro-login = Votre code de connexion { $issuer } est :
mail-code-intro-verification = Votre code de vérification { $issuer } est :
mail-code-validity = { $minutes ->
    [one] Il ne sert qu’une fois et reste valable { $minutes } minute. Si vous ne l’avez pas demandé, quelqu’un connaît peut-être votre mot de passe : changez-le.
   *[other] Il ne sert qu’une fois et reste valable { $minutes } minutes. Si vous ne l’avez pas demandé, quelqu’un connaît peut-être votre mot de passe : changez-le.
}
sms-code-login = { $minutes ->
    [one] Votre code de connexion { $issuer } est { $code }. Il ne sert qu'une fois, pendant { $minutes } minute.
   *[other] Votre code de connexion { $issuer } est { $code }. Il ne sert qu'une fois, pendant { $minutes } minutes.
}
sms-code-verification = { $minutes ->
    [one] Votre code de vérification { $issuer } est { $code }. Il ne sert qu'une fois, pendant { $minutes } minute.
   *[other] Votre code de vérification { $issuer } est { $code }. Il ne sert qu'une fois, pendant { $minutes } minutes.
}
mail-lockout-subject = { $issuer } : votre second facteur a été bloqué
mail-lockout-greeting = Bonjour { $username },
mail-lockout-body = Trop de codes erronés ont été saisis pour le second facteur de votre compte { $issuer } : il est donc bloqué jusqu’au { $until } UTC.
mail-lockout-advice = Si ce n’était pas vous, quelqu’un connaît votre mot de passe : changez-le et prévenez un administrateur.
