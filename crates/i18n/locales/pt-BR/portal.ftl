# As páginas do portal: login, segundo fator, cadastro de dispositivos, configurações de segurança.
portal-cancel = Cancelar
server-time = Hora do servidor:
clock-ahead = O relógio do seu dispositivo difere do relógio do servidor em cerca de { $seconds } segundos (adiantado). Se os códigos forem recusados, configure o relógio do seu celular para se atualizar automaticamente.
clock-behind = O relógio do seu dispositivo difere do relógio do servidor em cerca de { $seconds } segundos (atrasado). Se os códigos forem recusados, configure o relógio do seu celular para se atualizar automaticamente.

## Tipos de fator, como as páginas os chamam
factor-key-synced = chave de acesso sincronizada
factor-key-device-bound = vinculada ao dispositivo

## Chaves de segurança e chaves de acesso (exibidos pelo script da página)
webauthn-unsupported = Este navegador não oferece suporte a chaves de segurança nem a chaves de acesso. Use outro navegador ou outro método.
webauthn-unreadable = Não foi possível ler a página. Recarregue-a e tente novamente.
webauthn-cancelled = A solicitação à chave de segurança foi cancelada ou expirou. Tente novamente quando estiver pronto.
webauthn-registered = Esta chave de segurança ou chave de acesso já está registrada na sua conta.
webauthn-insecure = Este endereço não permite usar chaves de segurança: abra o servidor pelo nome do host via https (ou por http://localhost).
webauthn-no-answer = Sua chave de segurança ou chave de acesso não respondeu{ $detail }. Tente novamente ou use outro método.
webauthn-answer-too-large = A resposta da chave de segurança é grande demais.

## Login
login-title = Entrar
login-username = Nome de usuário
login-password = Senha
login-submit = Entrar
login-passkey = Entrar com uma chave de acesso

## O segundo fator
second-factor-title = Autenticação de dois fatores
second-factor-backup-intro = Digite um dos códigos de backup que você anotou ao configurar a autenticação de dois fatores. Cada código funciona uma única vez.
second-factor-backup-code = Código de backup
second-factor-verify = Verificar
second-factor-use-device = Digitar um código do seu dispositivo
second-factor-protected-by = Sua conta está protegida por:
second-factor-duo-help = O Duo Security pede que você aprove este login no seu celular (ou com outro método do Duo).
second-factor-duo = Entrar com o Duo
second-factor-key = Usar sua chave de segurança ou chave de acesso
second-factor-code = Código de autenticação
second-factor-use-backup = Usar um código de backup
second-factor-remember = { $days ->
    [one] Lembrar deste navegador por { $days } dia
   *[other] Lembrar deste navegador por { $days } dias
}
second-factor-locked = Muitas tentativas sem sucesso: seu segundo fator está bloqueado por um tempo. Tente novamente mais tarde ou peça a um administrador para desbloqueá-lo.
second-factor-key-refused = Sua chave de segurança ou chave de acesso não foi aceita. Tente novamente ou use outro método.
second-factor-wrong-code = O código digitado não corresponde ao esperado. Tente novamente.
second-factor-code-sent = Enviamos um código para { $destination }. Digite-o abaixo.
duo-refused-not-confirmed = O Duo não confirmou este login. Tente novamente.
duo-refused-used = Esta resposta do Duo já foi usada ou expirou. Tente novamente.
duo-refused-device-not-confirmed = O Duo não confirmou este dispositivo. Tente novamente.
duo-refused-not-pending = Este dispositivo do Duo não está mais aguardando configuração.

## Adicionar um dispositivo
enroll-choose-title = Escolha um serviço
enroll-required = A autenticação de dois fatores é obrigatória para a sua conta. Configure-a para continuar.
enroll-none = Nenhum método de dois fatores está habilitado para a sua conta. Fale com um administrador.
enroll-service = Serviço
enroll-yubikey-aes = Chave AES da YubiKey
enroll-yubikey-aes-help = (32 caracteres hexadecimais, como o ykpersonalize exibiu)
enroll-yubikey-private-id = ID privado
enroll-yubikey-private-id-help = (12 caracteres hexadecimais)
enroll-device-name = Nome do dispositivo
enroll-device-name-default = Aplicativo autenticador
enroll-start = Começar
enroll-scan-title = Escaneie o código QR
enroll-scan-intro = Escaneie este código QR com um aplicativo autenticador, como Google Authenticator, Duo Mobile, Authy ou 1Password. Se não conseguir escaneá-lo, digite a chave abaixo.
enroll-scan-qr-alt = Código QR para o seu aplicativo autenticador
enroll-scan-key = Chave:
enroll-device = Dispositivo: { $label }
enroll-enter-code = Digite o código de 6 dígitos
enroll-submit = Enviar
enroll-verify-title = Digite o código que enviamos
enroll-verify-sent-before = Enviamos um código de 6 dígitos para
enroll-verify-sent-after = {""}. Ele funciona uma única vez, por alguns minutos.
enroll-resend = Enviar um novo código
enroll-resent = Enviamos um novo código para { $destination }.
enroll-touch-title = Toque na sua YubiKey
enroll-touch-intro = Insira sua YubiKey ({ $label }), clique no campo abaixo e toque na chave. Ela digita um código de uso único e o envia; isso vincula esta chave à sua conta.
enroll-touch-code = Código da YubiKey
enroll-key-title = Registre sua chave de segurança ou chave de acesso
enroll-key-intro = Clique em Continuar: seu navegador pede que você toque na sua chave de segurança ou desbloqueie a chave de acesso neste dispositivo, no seu celular ou no seu gerenciador de senhas. Assim ela fica registrada na sua conta.
enroll-key-noscript = Chaves de segurança e chaves de acesso funcionam por meio de um script do seu navegador: ative o JavaScript para esta página ou escolha outro método.
enroll-duo-title = Continuar para o Duo
enroll-duo-intro = O Duo Security configura seu dispositivo ({ $label }) na própria página dele. Continue para o Duo, siga as etapas e aprove o login lá; você volta para cá quando terminar, e o Duo passa a ser uma das suas formas de entrar.
duo-done-title = O Duo está configurado
duo-done-intro = O Duo Security agora é uma forma de entrar para { $username }. Você pode fechar esta página.
duo-done-codes = Guarde estes códigos de backup em um lugar seguro. Cada um funciona uma única vez, e eles são a sua forma de entrar se você perder o dispositivo. Eles não serão exibidos novamente.

## Códigos de backup
codes-fresh-title = Guarde seus códigos de backup
codes-view-title = Seus códigos de backup
codes-fresh = Guarde estes códigos de backup em um lugar seguro. Cada um funciona uma única vez, e eles são a sua forma de entrar se você perder o dispositivo. Eles só serão exibidos novamente se você digitar sua senha.
codes-used = Os códigos usados aparecem riscados.
codes-copy = Copiar para a área de transferência
codes-copied = Copiado
codes-copy-failed = Falha ao copiar
codes-download = Baixar
codes-close = Fechar
codes-file-header = Códigos de backup do Twofold. Cada um funciona uma única vez.

## Primeira execução
setup-title = Criar a conta do proprietário
setup-intro = O proprietário é o administrador principal: ele gerencia as configurações de 2FA, os administradores e os tokens de API. Este link funciona uma única vez.
setup-email = E-mail (opcional)
setup-password-again = Confirmar senha
setup-submit = Criar conta do proprietário
setup-password-mismatch = As duas senhas não são iguais.
setup-link-title = Link de configuração
setup-link-gone = Este link de configuração não é mais válido.

## Confirmar sua identidade
step-up-title = Confirme que é você
step-up-intro = { $action ->
        [remove] Para remover um dispositivo
        [new-codes] Para obter novos códigos de backup
        [view-codes] Para ver seus códigos de backup
        [disable] Para desativar a autenticação de dois fatores
       *[enroll] Para adicionar um dispositivo
    }, digite sua senha{ $proof ->
        [code] {" "}e um código atual de um dos seus dispositivos (ou um código de backup)
        [key] {" "}e um código atual de um dos seus dispositivos (ou um código de backup), ou use sua chave de segurança
       *[none] {""}
    }. Isso não será pedido novamente por 5 minutos.
step-up-code = Um código atual ou um código de backup
step-up-continue = Continuar
step-up-password-missing = Digite sua senha.

## Sair
logout-intro = Sair do Twofold neste navegador? Todos os aplicativos que dependem deste login vão pedir que você entre novamente.

## Configurações de segurança
security-twofa-on = A autenticação de dois fatores está ativada
security-twofa-on-help = Ao entrar, depois da sua senha, o Twofold pede um código de um destes dispositivos.
security-devices = Seus dispositivos
security-col-device = Dispositivo
security-col-method = Método
security-col-added = Adicionado em
security-col-last-used = Último uso
security-col-action = Ação
security-not-confirmed = não confirmado
security-remove = Remover
security-remove-label = Remover { $label }
security-add-device = Adicionar outro dispositivo
security-twofa-off = A autenticação de dois fatores está desativada
security-twofa-off-help = Adicione uma segunda etapa ao seu login: um código do seu celular depois da senha, para que uma senha vazada não seja suficiente.
security-enable = Ativar a autenticação de dois fatores
security-backup = Códigos de backup
security-backup-help = Use um quando estiver sem o seu dispositivo.
security-view-codes = Ver códigos de backup
security-new-codes-help = Os novos códigos substituem os antigos, que deixam de funcionar.
security-new-codes = Gerar novos códigos
security-turn-off = Desativar
security-required = A autenticação de dois fatores é obrigatória para a sua conta.
security-turn-off-help = Desativá-la remove todos os seus dispositivos e códigos de backup e encerra sua sessão em todos os lugares, inclusive neste navegador.
security-turn-off-submit = Desativar a autenticação de dois fatores
security-password-help = Alterar sua senha encerra sua sessão em todos os lugares, inclusive neste navegador.
security-current-password = Senha atual
security-new-password = Nova senha
security-new-password-again = Repita a nova senha
security-change-password = Alterar senha
security-password-mismatch = As novas senhas não coincidem.
security-sessions = Sessões ativas
security-sessions-caption = Onde você está conectado
security-col-browser = Navegador
security-col-ip = Endereço IP
security-col-signed-in = Entrou em
security-this-browser = este navegador
security-signing-in = entrando
security-ip-unknown = desconhecido
security-sign-out = Encerrar sessão
security-sign-out-label = Encerrar sessão em { $browser }
security-browsers = Navegadores lembrados
security-no-browsers = Nenhum navegador é lembrado. Marque "Lembrar deste navegador" ao digitar um código, e esse navegador pedirá apenas sua senha por um tempo.
security-browsers-caption = Estes navegadores fazem seu login apenas com a senha
security-col-remembered = Lembrado em
security-col-until = Até
security-forget = Esquecer
security-forget-label = Esquecer { $browser }
security-end-all-help = Encerra todas as sessões, inclusive esta, e esquece todos os navegadores lembrados.
security-end-all = Sair de todos os lugares

## O que as páginas do segundo fator e de cadastro oferecem
