-brand = Twofold
skip-to-content = Pular para o conteúdo
nav-main = Menu principal
nav-security = Configurações de segurança
nav-admin = Administração
signed-in-as = Conectado como { $username }
signing-in-as = Entrando como { $username }
log-out = Sair
footer = Twofold · autenticação de dois fatores
language = Idioma
language-change = Alterar
language-menu = Escolher um idioma
backup-codes-left = { $count ->
    [one] Resta { $count } código de backup não utilizado.
   *[other] Restam { $count } códigos de backup não utilizados.
}
language-label = Idioma das páginas, e-mails e SMS
language-browser = Idioma do navegador
language-help = Páginas, e-mails e SMS ficam neste idioma. "Idioma do navegador" segue a configuração do seu navegador.
language-save = Salvar idioma
language-unknown-title = Idioma desconhecido
language-unknown = Escolha um dos idiomas da lista.
back-to-security = Voltar às configurações de segurança
go-to-start = Ir para a página inicial
no-access-title = Sem acesso
no-access = Você não tem acesso a esta página.
not-found-title = Não encontrada
not-found = Esta página não existe.
form-refused-title = Formulário recusado
form-refused = O formulário expirou ou não foi enviado a partir deste site. Volte, recarregue a página e tente novamente.
internal-title = Algo deu errado
internal = Algo deu errado no servidor; os detalhes estão no log dele.
notice-owner-created = Conta de proprietário criada. Entre.
notice-logged-out = Você saiu.
notice-expired = Seu login demorou demais. Comece de novo.
notice-device-added = Dispositivo adicionado.
notice-device-removed = Dispositivo removido.
notice-twofa-off = A autenticação de dois fatores está desativada.
notice-reset-done = A autenticação de dois fatores foi redefinida.
notice-unlocked = O segundo fator foi desbloqueado.
notice-disabled = A conta foi desativada.
notice-enabled = A conta foi ativada.
notice-settings-saved = Configurações salvas.
notice-login-required = Entre para continuar.
notice-duo-failed = O Duo não confirmou este login. Entre e tente novamente.
notice-signed-out-everywhere = Você saiu de todos os lugares. Entre novamente.
notice-session-ended = Essa sessão foi encerrada.
notice-browser-forgotten = Esse navegador foi esquecido: o próximo login nele pedirá o segundo fator de novo.
notice-password-changed = Sua senha foi alterada e todas as sessões foram encerradas. Entre com a nova senha.
notice-signed-out = Sua sessão terminou. Entre novamente.
notice-last-device-removed = Dispositivo removido. Era o último, então todas as sessões foram encerradas. Entre novamente.
notice-twofa-off-signed-out = A autenticação de dois fatores está desativada e todas as sessões foram encerradas. Entre novamente.
notice-language-saved = Idioma salvo.

kind-totp = Códigos baseados em tempo
kind-email = Códigos por e-mail
kind-sms = Códigos por SMS
kind-yubikey = YubiKey
kind-duo = Duo Security
kind-webauthn = Chave de segurança ou chave de acesso
kind-hotp = Códigos baseados em contador
offer-method = { $kind ->
    [totp] { kind-totp }
    [email] { kind-email }
    [sms] { kind-sms }
    [yubikey] { kind-yubikey }
    [duo] { kind-duo }
    [webauthn] { kind-webauthn }
   *[hotp] { kind-hotp }
} ({ $label })
offer-send-email = Enviar um código por e-mail ({ $to })
offer-send-sms = Enviar um código por SMS ({ $to })
offer-help-totp = Um aplicativo no seu celular, como Google Authenticator, Duo Mobile ou Authy, mostra um novo código de 6 dígitos a cada 30 segundos.
offer-help-email = Um código de 6 dígitos enviado para { $to } sempre que você entrar.
offer-help-sms = Um código de 6 dígitos enviado por SMS para { $to } sempre que você entrar.
offer-help-yubikey = Uma YubiKey: conecte-a e toque nela; ela digita um código de uso único.
offer-help-duo = Duo Security: aprove cada login no Duo Mobile (ou com outro método do Duo). A configuração é feita na própria janela do Duo.
offer-help-webauthn = Uma chave de segurança (como uma YubiKey) ou uma chave de acesso no seu celular, computador ou gerenciador de senhas: toque nela ou desbloqueie-a para entrar.
offer-help-hotp = Um token que mostra um novo código cada vez que você aperta o botão dele.
offer-help-touch-key = Toque na sua YubiKey: ela digita o código e envia.
offer-help-key-or-backup = Use sua chave de segurança ou chave de acesso, ou digite um código de backup.
offer-help-duo-or-backup = Use "Entrar com o Duo" abaixo, ou um código de backup.
offer-way-totp = { $position ->
    [first] { $other ->
        [0] O código de { $digits } dígitos que seu aplicativo autenticador mostra agora.
       *[other] O código de { $digits } ou { $other } dígitos que seu aplicativo autenticador mostra agora.
    }
   *[more] { $other ->
        [0] Ou digite o código de { $digits } dígitos que seu aplicativo autenticador mostra agora.
       *[other] Ou digite o código de { $digits } ou { $other } dígitos que seu aplicativo autenticador mostra agora.
    }
}
offer-way-hotp = { $position ->
    [first] { $other ->
        [0] O código de { $digits } dígitos que seu token mostra quando você aperta o botão dele.
       *[other] O código de { $digits } ou { $other } dígitos que seu token mostra quando você aperta o botão dele.
    }
   *[more] { $other ->
        [0] Ou digite o código de { $digits } dígitos que seu token mostra quando você aperta o botão dele.
       *[other] Ou digite o código de { $digits } ou { $other } dígitos que seu token mostra quando você aperta o botão dele.
    }
}
offer-way-sent = { $position ->
    [first] O código de 6 dígitos que enviamos para você.
   *[more] Ou digite o código de 6 dígitos que enviamos para você.
}
offer-way-duo = { $position ->
    [first] Um código de acesso do Duo Mobile.
   *[more] Ou digite um código de acesso do Duo Mobile.
}
