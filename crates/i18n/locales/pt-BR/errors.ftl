# Erros e recusas: a `message` da API, erros de formulário, Reply-Message do RADIUS.

## Entrar e sair
err-credentials-wrong = Nome de usuário ou senha incorretos.
err-password-wrong = A senha não está correta.
err-current-password-wrong = Sua senha atual não está correta.
err-password-length = Uma senha tem de { $min } a { $max } caracteres.
err-account-disabled = Esta conta está desativada.
err-2fa-required = A autenticação de dois fatores é obrigatória para sua conta.
err-set-up-2fa-first = Configure primeiro a autenticação de dois fatores.
err-finish-login-first = Conclua o login primeiro.
err-login-not-waiting-code = Este login não está aguardando um código.
err-login-not-waiting-second-factor = Este login não está aguardando um segundo fator.
err-login-already-completed = Este login já foi concluído.
err-login-not-enrolling = Este login não está cadastrando um dispositivo.
err-setup-link-invalid = Este link de configuração não é mais válido.
err-passkey-unknown = Esta chave de acesso não foi aceita: ela não está registrada aqui, ou este login expirou. Tente novamente ou entre com sua senha.
err-passkey-refused = A resposta da sua chave de acesso foi recusada. Tente novamente.
err-passwordless-disabled = O login sem senha não está ativado neste servidor.

## Limites e bloqueios
err-server-busy = O servidor está ocupado. Tente novamente em instantes.
err-too-many-attempts-wait = Muitas tentativas malsucedidas. Tente novamente em { $seconds ->
    [one] { $seconds } segundo
   *[other] { $seconds } segundos
}.
err-code-sent-recently = Um código foi enviado há pouco. Você pode pedir um novo em { $seconds ->
    [one] { $seconds } segundo
   *[other] { $seconds } segundos
}.
err-locked = Muitas tentativas malsucedidas: seu segundo fator está bloqueado por um tempo.
err-locked-ask-admin = Muitas tentativas malsucedidas: seu segundo fator está bloqueado por um tempo. Tente novamente mais tarde ou peça a um administrador para desbloqueá-lo.
err-locked-unlock-first = Muitos códigos errados: o segundo fator deste usuário está bloqueado por um tempo. Desbloqueie o usuário primeiro.

## Confirmar sua identidade antes de uma ação sensível
err-step-up-remove-device = Confirme que é você para remover um dispositivo: digite sua senha e um código atual.
err-step-up-new-backup-codes = Confirme que é você para obter novos códigos de backup: digite sua senha e um código atual.
err-step-up-view-backup-codes = Confirme que é você para ver seus códigos de backup: digite sua senha e um código atual.
err-step-up-disable-2fa = Confirme que é você para desativar a autenticação de dois fatores: digite sua senha e um código atual.
err-step-up-change-contact = Confirme que é você para alterar seu endereço de e-mail ou número de telefone: digite sua senha e um código atual.
err-step-up-add-device = Confirme que é você para adicionar um dispositivo: digite sua senha e um código atual.

## Códigos
err-code-malformed = Isso não é um código: digite o código de 6 dígitos do seu aplicativo ou um código de backup de 10 caracteres.
err-code-wrong = O código digitado não confere. Tente novamente.
err-code-missing = Digite o código do seu aplicativo autenticador ou um código de backup.
err-code-missing-current = Digite um código atual do seu dispositivo ou um código de backup.
err-code-sent-by-email-sms = Os códigos são enviados por email ou sms.
err-unknown-method = Método desconhecido: use totp, hotp, email, sms, yubikey, duo ou backup_code.
err-unknown-kind = Método desconhecido: use totp, hotp, email, sms, yubikey, duo ou webauthn.
err-method-not-for-account = Esse método não está disponível para sua conta.
err-method-not-enabled-for-role = Este método não está ativado para a função deste usuário: { $method }.

## Usuários
err-user-not-found = Não há nenhum usuário com esse nome.
err-user-exists = Já existe um usuário com esse nome.
err-username-invalid = um nome de usuário tem de 1 a 64 caracteres: letras, dígitos e . _ @ + - (sem espaços nem outros símbolos)
err-email-invalid = isso não parece um endereço de e-mail
err-phone-invalid = um número de telefone precisa de +, o código do país e o número: de 8 a 15 dígitos no total
err-role-invalid = Uma função é client, admin ou owner.
err-role-value-invalid = uma função é client, admin ou owner
err-email-missing = Adicione primeiro um endereço de e-mail à conta.
err-phone-missing = Adicione primeiro um número de telefone à conta.

## Dispositivos (fatores)
err-factor-not-found = Este usuário não tem nenhum fator com esse identificador.
err-user-has-no-factor = Este usuário não tem um fator deste tipo: { $method }.
err-factor-no-codes = Este fator não recebe códigos.
err-factor-no-qr = Este fator não tem QR code.
err-factor-cannot-confirm = Este fator não pode ser confirmado nesta versão.
err-factor-already-confirmed = Este fator já está confirmado.
err-too-many-factors = Um usuário pode ter no máximo { $max } fatores; remova um primeiro.
err-last-factor = A autenticação de dois fatores é obrigatória para sua conta: adicione outro dispositivo antes de remover este.
err-label-invalid = Um rótulo tem de 1 a 64 caracteres.
err-confirm-code-missing = Envie o código do dispositivo para confirmá-lo.
err-backup-codes-need-factor = Os códigos de backup acompanham um fator confirmado; cadastre um primeiro.
err-algorithm-invalid = O algoritmo é sha1, sha256 ou sha512.
err-digits-invalid = Um código tem 6 ou 8 dígitos.
err-period-invalid = O período é de { $min } a { $max } segundos.
err-otp-fields-unexpected = algorithm, digits e period pertencem a um fator totp ou hotp.
err-hotp-no-period = Um token baseado em contador não tem período: envie apenas algorithm e digits.
err-hotp-added-by-admin = Tokens baseados em contador são adicionados por um administrador.
err-resync-hotp-only = Só um token baseado em contador (HOTP) é ressincronizado.
err-resync-not-confirmed = Este token ainda não foi confirmado: confirme-o com um único código.
err-resync-codes-missing = Envie dois códigos que o token mostrou em sequência: code1 e code2.

## Chaves de segurança e chaves de acesso
err-credential-missing = Uma chave de segurança é confirmada com a credencial que o navegador criou: envie "credential".
err-credential-registered = Esta chave de segurança ou chave de acesso já está registrada.
err-credential-unreadable = Não foi possível ler a credencial: { $reason }.
err-credential-too-large = ela é grande demais
err-webauthn-public-url = Chaves de segurança exigem que a URL pública do servidor (public_url) tenha um nome de host.
err-rp-id-mismatch = O ID da parte confiável { $rp_id } não é o host da URL pública ({ $host }) nem um domínio pai dele: corrija webauthn.rp_id.
err-factor-not-security-key = Este fator não é uma chave de segurança.
err-factor-confirmed-with-code = Este fator é confirmado com um código, não com uma credencial.
err-security-key-refused = A resposta da chave de segurança foi recusada: tente novamente.
err-no-security-key = Este usuário não tem chave de segurança nem chave de acesso.

## YubiKey
err-yubikey-fields-unexpected = aes_key e private_id pertencem a uma YubiKey.
err-yubikey-secret-missing = No modo local, uma YubiKey é adicionada com sua chave AES (32 caracteres hexadecimais) e seu ID privado (12 caracteres hexadecimais), como o ykpersonalize os mostrou.
err-yubikey-server-mode = O modo da YubiKey é "server": os servidores de validação guardam a chave; não envie aes_key nem private_id.
err-aes-key-invalid = A chave AES tem 32 caracteres hexadecimais (16 bytes).
err-private-id-invalid = O ID privado tem 12 caracteres hexadecimais (6 bytes).
err-yubikey-yours = Esta YubiKey já é um dos dispositivos desta conta.
err-yubikey-taken = Esta YubiKey está registrada em outra conta. Fale com um administrador.
err-yubikey-not-bound = Só uma YubiKey vinculada a um ID público é liberada desta forma.
err-client-name-invalid = Um nome de cliente tem de 1 a 64 letras, dígitos, pontos, hifens ou sublinhados.
err-validation-client-exists = Já existe um cliente de validação chamado { $name }.
err-validation-client-unknown = Não há nenhum cliente de validação chamado { $name }.

## Duo
err-duo-unreachable = O Duo está inacessível; tente outro método ou um código de backup.
err-duo-cannot-be-used = O Duo não pode ser usado agora; tente outro método ou um código de backup.
err-duo-cannot-be-used-reason = O Duo não pode ser usado: { $reason }
err-duo-check-failed = O Duo não conseguiu verificar isso: { $reason }
err-duo-why-unreachable = Não foi possível falar com o Duo.
err-duo-why-refused = O Duo recusou a solicitação.
err-duo-why-invalid = A resposta do Duo não passou nas verificações do Twofold.
err-duo-push-timeout = O Duo não confirmou: a notificação push não foi respondida a tempo.
err-duo-denied = O Duo não confirmou: a notificação push foi recusada ou a senha do Duo estava errada.
err-duo-not-available = O Duo não está disponível para esta conta.
err-duo-not-set-up = O Duo não está configurado: defina primeiro as chaves do Duo Web SDK ou da Auth API e o nome de host da API.
err-duo-enrolled = Esta conta já tem Duo: uma conta Duo atende a todos os seus dispositivos.
err-duo-needs-email = O Duo identifica esta conta pelo endereço de e-mail: adicione um à conta primeiro.
err-duo-passcode-malformed = Uma senha do Duo tem de 6 a 8 dígitos; não envie código para confirmar com uma notificação push.
err-factor-not-duo = Este fator não é um fator Duo.
err-duo-web-sdk-missing = O aplicativo Duo Web SDK (ID do cliente, segredo do cliente, nome de host da API) não está configurado.
err-duo-auth-api-missing = Notificações push e senhas do Duo precisam do aplicativo Duo Auth API (chave de integração, chave secreta, nome de host da API).
err-duo-auth-api-confirm-missing = Confirmar o Duo pela API precisa do aplicativo Duo Auth API (chave de integração, chave secreta, nome de host da API); caso contrário, envie o usuário para a auth_url do fator.
err-duo-push-auth-api-missing = Notificações push do Duo precisam do aplicativo Duo Auth API (chave de integração, chave secreta, nome de host da API).
err-duo-auth-api-not-set = o aplicativo Duo Auth API não está configurado (methods.duo.ikey, .skey, .api_host)

## RADIUS
err-radius-wrong-password = Nome de usuário ou senha incorretos.
err-radius-expired = Este login demorou demais ou já foi respondido. Comece novamente.
err-radius-not-enrolled = Nenhum segundo fator está configurado para esta conta.
err-radius-code-not-sent = Não foi possível enviar o código. Tente novamente mais tarde.
radius-challenge-totp = Digite o código do seu aplicativo autenticador (ou um código de backup).
radius-challenge-hotp = Pressione o botão do seu token e digite o código dele (ou um código de backup).
radius-challenge-yubikey = Toque na sua YubiKey (ou digite um código de backup).
radius-challenge-duo = Digite uma senha do Duo Mobile, ou deixe em branco para receber uma notificação push do Duo.
radius-challenge-sent = Digite o código que enviamos para { $destination }.
radius-challenge-backup = Digite um código de backup.
err-address-invalid = { $address } não é um endereço IP nem uma rede como 10.0.0.0/24.
err-radius-client-every-address = Um cliente RADIUS é um endereço ou uma rede, não todos os endereços.
err-radius-client-no-ma-network = Um cliente que pode omitir o Message-Authenticator deve ser um único endereço, não uma rede.
err-radius-client-address-taken = O cliente RADIUS { $name } já tem o endereço { $network }.
err-radius-client-exists = Já existe um cliente RADIUS chamado { $name }.
err-radius-client-unknown = Não há nenhum cliente RADIUS chamado { $name }.

## Administração
err-manage-admins-owner-only = Administradores gerenciam clientes; só um proprietário gerencia administradores e proprietários.
err-owner-settings-only = Só o proprietário altera estas configurações.
err-master-key-mismatch = A chave mestra não corresponde a este banco de dados: use o arquivo master.key com que o banco foi configurado (copie-o de outro nó).
err-token-name-invalid = Um nome de token tem de 1 a 64 letras, dígitos, pontos, hifens ou sublinhados.
err-scope-invalid = um escopo de token é admin, validate ou metrics
err-token-exists = Já existe um token com esse nome.
err-token-not-found = Não há nenhum token com esse nome.

## Configurações (por que um valor é recusado)
err-setting-unknown = configuração desconhecida { $key }
err-setting-invalid = valor inválido para { $key }: { $reason }
err-setting-expected-bool = esperado true ou false
err-setting-expected-number = esperado um número inteiro de { $min } a { $max }
err-setting-expected-choice = esperado um destes valores: { $options }
err-setting-text-too-long = texto de no máximo 2048 caracteres, sem caracteres de controle
err-setting-client-id = o ID do cliente é um número inteiro positivo
err-setting-base64 = a chave de API está em base64, como o serviço de validação a forneceu
err-setting-server-urls = as URLs dos servidores de validação começam com https:// (http:// só para esta máquina), separadas por vírgulas
err-setting-duo-key = { $count } letras e dígitos, como o painel de administração do Duo mostra
err-setting-host-port = um nome de host com :porta opcional, como api-xxxxxxxx.duosecurity.com (sem https://, sem caminho)
err-setting-host-name = um nome de host como example.com (sem https://, sem porta, sem caminho)
err-setting-duo-username = um formato com {"{"}username{"}"} ou {"{"}email{"}"}, como {"{"}username{"}"} ou {"{"}email{"}"}

## A API e a verificação por proxy
err-api-body-too-large = O corpo da requisição passa do limite de 2 MiB.
err-api-unreadable = Não foi possível ler a requisição: { $detail }
err-api-unauthorized = Envie um token de API válido como Authorization: Bearer <token>.
err-api-forbidden = O escopo deste token não permite isso.
err-api-no-route = Esse endpoint da API não existe.
err-api-method-not-allowed = Este endpoint não aceita esse método HTTP; o cabeçalho Allow lista os que ele aceita.
err-api-refused = A requisição foi recusada.
err-api-body-timeout = O corpo da requisição não chegou a tempo.
err-code-or-credential = Envie um código ou uma credencial, não os dois.
err-webauthn-credential-missing = Uma chave de segurança responde com "credential": o que navigator.credentials.get() retornou, como o toJSON() dele fornece.
err-webauthn-credential-with-code = Uma credencial vai com "method": "webauthn" e sem código.
err-setting-value-type = { $key }: uma configuração é um booleano, um número inteiro ou uma string
err-forward-untrusted-proxy = Só um proxy confiável pode perguntar (TWOFOLD_TRUSTED_PROXIES).
err-forward-bad-target = não é possível ler a URL da requisição original
err-forward-headers-missing = O proxy deve enviar { $headers }.
err-forward-denied = Você está conectado, mas não tem acesso aqui.
err-forward-sign-in = Entre primeiro.

## Envio de e-mails e SMS
err-email-not-set-up = O envio de e-mails não está configurado neste servidor.
err-sms-not-set-up = O envio de SMS não está configurado neste servidor.
err-outbox-write = Não foi possível gravar a mensagem na pasta de saída.
err-email-not-sent = Não foi possível enviar o e-mail: { $problem }.
err-email-tls-setup = não foi possível preparar uma conexão segura com o servidor de e-mail
err-email-from-invalid = o endereço de remetente nas configurações de e-mail não é válido
err-email-to-invalid = o endereço do destinatário não é válido
err-email-build = não foi possível montar a mensagem
err-email-server-busy = o servidor de e-mail está ocupado, tente novamente mais tarde
err-email-auth-required = o servidor de e-mail exige nome de usuário e senha
err-email-auth-refused = o servidor de e-mail recusou o nome de usuário ou a senha
err-email-refused = o servidor de e-mail recusou a mensagem
err-email-no-starttls = o servidor de e-mail não oferece STARTTLS
err-email-no-auth = o servidor de e-mail não aceita nome de usuário e senha nesta conexão
err-email-cannot-take = o servidor de e-mail não pode aceitar esta mensagem
err-email-bad-answer = não foi possível entender a resposta do servidor de e-mail
err-email-no-answer = o servidor de e-mail não respondeu
err-email-tls-failed = não foi possível estabelecer uma conexão segura com o servidor de e-mail (verifique a configuração de segurança e o certificado do servidor)
err-sms-region-invalid = Não foi possível enviar o SMS: a região da AWS nas configurações do SNS não é válida.
err-sms-number-invalid = Não foi possível enviar o SMS: o número de telefone não está no formato internacional (+ e o código do país).
err-sms-url-invalid = Não foi possível enviar o SMS: a URL do provedor de SMS nas configurações não é válida.
err-sms-provider-failed = O provedor de SMS não conseguiu aceitar a mensagem (HTTP { $status }).
err-sms-provider-refused = O provedor de SMS recusou a mensagem (HTTP { $status }).
err-sms-no-answer = Não foi possível enviar o SMS: o provedor de SMS não respondeu.
err-sms-tls-failed = Não foi possível enviar o SMS: não foi possível estabelecer uma conexão segura com o provedor de SMS.
err-sms-unreachable = Não foi possível enviar o SMS: o provedor de SMS está inacessível.
err-sms-connection-failed = Não foi possível enviar o SMS: a conexão com o provedor de SMS falhou.
