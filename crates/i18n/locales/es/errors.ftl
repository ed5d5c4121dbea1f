# Errores y rechazos: el `message` de la API, los errores de formulario, los Reply-Message de RADIUS.

## Inicio y cierre de sesión
err-credentials-wrong = Nombre de usuario o contraseña incorrectos.
err-password-wrong = La contraseña no es correcta.
err-current-password-wrong = Su contraseña actual no es correcta.
err-password-length = Una contraseña tiene de { $min } a { $max } caracteres.
err-account-disabled = Esta cuenta está desactivada.
err-2fa-required = La autenticación de dos factores es obligatoria para su cuenta.
err-set-up-2fa-first = Configure primero la autenticación de dos factores.
err-finish-login-first = Termine primero de iniciar sesión.
err-login-not-waiting-code = Este inicio de sesión no está esperando un código.
err-login-not-waiting-second-factor = Este inicio de sesión no está esperando un segundo factor.
err-login-already-completed = Este inicio de sesión ya se completó.
err-login-not-enrolling = Este inicio de sesión no está registrando un dispositivo.
err-setup-link-invalid = Este enlace de configuración ya no es válido.
err-passkey-unknown = No se aceptó esta llave de acceso: no está registrada aquí, o este inicio de sesión caducó. Inténtelo de nuevo o inicie sesión con su contraseña.
err-passkey-refused = Se rechazó la respuesta de su llave de acceso. Inténtelo de nuevo.
err-passwordless-disabled = El inicio de sesión sin contraseña no está activado en este servidor.

## Limitación y bloqueos
err-server-busy = El servidor está ocupado. Inténtelo de nuevo en un momento.
err-too-many-attempts-wait = Demasiados intentos fallidos. Inténtelo de nuevo en { $seconds ->
    [one] { $seconds } segundo
   *[other] { $seconds } segundos
}.
err-code-sent-recently = Se envió un código hace poco. Podrá pedir uno nuevo en { $seconds ->
    [one] { $seconds } segundo
   *[other] { $seconds } segundos
}.
err-locked = Demasiados intentos fallidos: su segundo factor está bloqueado durante un tiempo.
err-locked-ask-admin = Demasiados intentos fallidos: su segundo factor está bloqueado durante un tiempo. Inténtelo más tarde o pida a un administrador que lo desbloquee.
err-locked-unlock-first = Demasiados códigos erróneos: el segundo factor de este usuario está bloqueado durante un tiempo. Desbloquee primero al usuario.

## Confirmar su identidad antes de una acción delicada
err-step-up-remove-device = Confirme su identidad para quitar un dispositivo: introduzca su contraseña y un código actual.
err-step-up-new-backup-codes = Confirme su identidad para obtener nuevos códigos de respaldo: introduzca su contraseña y un código actual.
err-step-up-view-backup-codes = Confirme su identidad para ver sus códigos de respaldo: introduzca su contraseña y un código actual.
err-step-up-disable-2fa = Confirme su identidad para desactivar la autenticación de dos factores: introduzca su contraseña y un código actual.
err-step-up-change-contact = Confirme su identidad para cambiar su dirección de correo electrónico o su número de teléfono: introduzca su contraseña y un código actual.
err-step-up-add-device = Confirme su identidad para añadir un dispositivo: introduzca su contraseña y un código actual.

## Códigos
err-code-malformed = Eso no es un código: introduzca el código de 6 dígitos de su aplicación o un código de respaldo de 10 caracteres.
err-code-wrong = El código introducido no es correcto. Inténtelo de nuevo.
err-code-missing = Introduzca el código de su aplicación de autenticación o un código de respaldo.
err-code-missing-current = Introduzca un código actual de su dispositivo o un código de respaldo.
err-code-sent-by-email-sms = Los códigos se envían por email o sms.
err-unknown-method = Método desconocido: use totp, hotp, email, sms, yubikey, duo o backup_code.
err-unknown-kind = Método desconocido: use totp, hotp, email, sms, yubikey, duo o webauthn.
err-method-not-for-account = Ese método no está disponible para su cuenta.
err-method-not-enabled-for-role = Este método no está activado para el rol de este usuario: { $method }.

## Usuarios
err-user-not-found = No hay ningún usuario con ese nombre.
err-user-exists = Ya existe un usuario con ese nombre.
err-username-invalid = un nombre de usuario tiene de 1 a 64 caracteres: letras, dígitos y . _ @ + - (sin espacios ni otros símbolos)
err-email-invalid = eso no parece una dirección de correo electrónico
err-phone-invalid = un número de teléfono necesita +, el código del país y el número: de 8 a 15 dígitos en total
err-role-invalid = Un rol es client, admin u owner.
err-role-value-invalid = un rol es client, admin u owner
err-email-missing = Añada primero una dirección de correo electrónico a la cuenta.
err-phone-missing = Añada primero un número de teléfono a la cuenta.

## Dispositivos (factores)
err-factor-not-found = Este usuario no tiene ningún factor con ese identificador.
err-user-has-no-factor = Este usuario no tiene un factor de este tipo: { $method }.
err-factor-no-codes = Este factor no recibe códigos.
err-factor-no-qr = Este factor no tiene código QR.
err-factor-cannot-confirm = Este factor no se puede confirmar en esta versión.
err-factor-already-confirmed = Este factor ya está confirmado.
err-too-many-factors = Un usuario puede tener como máximo { $max } factores; quite uno primero.
err-last-factor = La autenticación de dos factores es obligatoria para su cuenta: añada otro dispositivo antes de quitar este.
err-label-invalid = Una etiqueta tiene de 1 a 64 caracteres.
err-confirm-code-missing = Envíe el código del dispositivo para confirmarlo.
err-backup-codes-need-factor = Los códigos de respaldo acompañan a un factor confirmado; registre uno primero.
err-algorithm-invalid = El algoritmo es sha1, sha256 o sha512.
err-digits-invalid = Un código tiene 6 u 8 dígitos.
err-period-invalid = El periodo es de { $min } a { $max } segundos.
err-otp-fields-unexpected = algorithm, digits y period corresponden a un factor totp o hotp.
err-hotp-no-period = Un token basado en contador no tiene periodo: envíe solo algorithm y digits.
err-hotp-added-by-admin = Los tokens basados en contador los añade un administrador.
err-resync-hotp-only = Solo un token basado en contador (HOTP) se vuelve a sincronizar.
err-resync-not-confirmed = Este token aún no está confirmado: confírmelo con un solo código.
err-resync-codes-missing = Envíe dos códigos que el token haya mostrado uno tras otro: code1 y code2.

## Llaves de seguridad y llaves de acceso
err-credential-missing = Una llave de seguridad se confirma con la credencial que creó el navegador: envíe «credential».
err-credential-registered = Esta llave de seguridad o llave de acceso ya está registrada.
err-credential-unreadable = No se pudo leer la credencial: { $reason }.
err-credential-too-large = es demasiado grande
err-webauthn-public-url = Las llaves de seguridad necesitan que la URL pública del servidor (public_url) tenga un nombre de host.
err-rp-id-mismatch = El ID de la parte de confianza { $rp_id } no es el host de la URL pública ({ $host }) ni un dominio superior a él: corrija webauthn.rp_id.
err-factor-not-security-key = Este factor no es una llave de seguridad.
err-factor-confirmed-with-code = Este factor se confirma con un código, no con una credencial.
err-security-key-refused = Se rechazó la respuesta de la llave de seguridad: inténtelo de nuevo.
err-no-security-key = Este usuario no tiene ninguna llave de seguridad ni llave de acceso.

## YubiKey
err-yubikey-fields-unexpected = aes_key y private_id corresponden a una YubiKey.
err-yubikey-secret-missing = En modo local, una YubiKey se añade con su clave AES (32 caracteres hexadecimales) y su ID privado (12 caracteres hexadecimales), tal como los mostró ykpersonalize.
err-yubikey-server-mode = El modo de YubiKey es «server»: los servidores de validación guardan la clave; no envíe aes_key ni private_id.
err-aes-key-invalid = La clave AES tiene 32 caracteres hexadecimales (16 bytes).
err-private-id-invalid = El ID privado tiene 12 caracteres hexadecimales (6 bytes).
err-yubikey-yours = Esta YubiKey ya es uno de los dispositivos de esta cuenta.
err-yubikey-taken = Esta YubiKey está registrada en otra cuenta. Consulte a un administrador.
err-yubikey-not-bound = Solo una YubiKey vinculada a un ID público se libera de esta forma.
err-client-name-invalid = Un nombre de cliente tiene de 1 a 64 letras, dígitos, puntos, guiones o guiones bajos.
err-validation-client-exists = Ya existe un cliente de validación llamado { $name }.
err-validation-client-unknown = No hay ningún cliente de validación llamado { $name }.

## Duo
err-duo-unreachable = No se puede contactar con Duo; pruebe otro método o un código de respaldo.
err-duo-cannot-be-used = Duo no se puede usar en este momento; pruebe otro método o un código de respaldo.
err-duo-cannot-be-used-reason = Duo no se puede usar: { $reason }
err-duo-check-failed = Duo no pudo comprobarlo: { $reason }
err-duo-why-unreachable = No se pudo contactar con Duo.
err-duo-why-refused = Duo rechazó la solicitud.
err-duo-why-invalid = La respuesta de Duo no superó las comprobaciones de Twofold.
err-duo-push-timeout = Duo no confirmó: la notificación push no se respondió a tiempo.
err-duo-denied = Duo no confirmó: se rechazó la notificación push o el código de acceso era incorrecto.
err-duo-not-available = Duo no está disponible para esta cuenta.
err-duo-not-set-up = Duo no está configurado: configure primero las claves de Duo Web SDK o Auth API y el nombre de host de la API.
err-duo-enrolled = Esta cuenta ya tiene Duo: una cuenta de Duo sirve para todos sus dispositivos.
err-duo-needs-email = Duo identifica esta cuenta por su dirección de correo electrónico: añada una a la cuenta primero.
err-duo-passcode-malformed = Un código de acceso de Duo tiene de 6 a 8 dígitos; no envíe ningún código para confirmar con una notificación push.
err-factor-not-duo = Este factor no es un factor de Duo.
err-duo-web-sdk-missing = La aplicación Duo Web SDK (ID de cliente, secreto de cliente, nombre de host de la API) no está configurada.
err-duo-auth-api-missing = Las notificaciones push y los códigos de acceso de Duo necesitan la aplicación Duo Auth API (clave de integración, clave secreta, nombre de host de la API).
err-duo-auth-api-confirm-missing = Para confirmar Duo a través de la API se necesita la aplicación Duo Auth API (clave de integración, clave secreta, nombre de host de la API); de lo contrario, envíe al usuario a la auth_url del factor.
err-duo-push-auth-api-missing = Las notificaciones push de Duo necesitan la aplicación Duo Auth API (clave de integración, clave secreta, nombre de host de la API).
err-duo-auth-api-not-set = la aplicación Duo Auth API no está configurada (methods.duo.ikey, .skey, .api_host)

## RADIUS
err-radius-wrong-password = Nombre de usuario o contraseña incorrectos.
err-radius-expired = Este inicio de sesión tardó demasiado o ya se respondió. Vuelva a empezar.
err-radius-not-enrolled = No hay ningún segundo factor configurado para esta cuenta.
err-radius-code-not-sent = No se pudo enviar el código. Inténtelo de nuevo más tarde.
radius-challenge-totp = Introduzca el código de su aplicación de autenticación (o un código de respaldo).
radius-challenge-hotp = Pulse el botón de su token e introduzca su código (o un código de respaldo).
radius-challenge-yubikey = Toque su YubiKey (o introduzca un código de respaldo).
radius-challenge-duo = Introduzca un código de acceso de Duo Mobile, o déjelo vacío para recibir una notificación push de Duo.
radius-challenge-sent = Introduzca el código que enviamos a { $destination }.
radius-challenge-backup = Introduzca un código de respaldo.
err-address-invalid = { $address } no es una dirección IP ni una red como 10.0.0.0/24.
err-radius-client-every-address = Un cliente RADIUS es una dirección o una red, no todas las direcciones.
err-radius-client-no-ma-network = Un cliente que puede omitir el Message-Authenticator debe ser una sola dirección, no una red.
err-radius-client-address-taken = El cliente RADIUS { $name } ya tiene la dirección { $network }.
err-radius-client-exists = Ya existe un cliente RADIUS llamado { $name }.
err-radius-client-unknown = No hay ningún cliente RADIUS llamado { $name }.

## Administración
err-manage-admins-owner-only = Los administradores gestionan clientes; solo un propietario gestiona administradores y propietarios.
err-owner-settings-only = Solo el propietario cambia estos ajustes.
err-master-key-mismatch = La clave maestra no corresponde a esta base de datos: use el archivo master.key con el que se configuró la base de datos (cópielo de otro nodo).
err-token-name-invalid = Un nombre de token tiene de 1 a 64 letras, dígitos, puntos, guiones o guiones bajos.
err-scope-invalid = un ámbito de token es admin, validate o metrics
err-token-exists = Ya existe un token con ese nombre.
err-token-not-found = No hay ningún token con ese nombre.

## Ajustes (por qué se rechaza un valor)
err-setting-unknown = ajuste desconocido { $key }
err-setting-invalid = valor no válido para { $key }: { $reason }
err-setting-expected-bool = se esperaba true o false
err-setting-expected-number = se esperaba un número entero de { $min } a { $max }
err-setting-expected-choice = se esperaba uno de estos valores: { $options }
err-setting-text-too-long = texto de 2048 caracteres como máximo, sin caracteres de control
err-setting-client-id = el ID de cliente es un número entero positivo
err-setting-base64 = la clave de API está en base64, tal como la dio el servicio de validación
err-setting-server-urls = las URL de los servidores de validación empiezan por https:// (http:// solo hacia esta máquina), separadas por comas
err-setting-duo-key = { $count } letras y dígitos, tal como los muestra el panel de administración de Duo
err-setting-host-port = un nombre de host con un :puerto opcional, como api-xxxxxxxx.duosecurity.com (sin https://, sin ruta)
err-setting-host-name = un nombre de host como example.com (sin https://, sin puerto, sin ruta)
err-setting-duo-username = un formato con {"{"}username{"}"} o {"{"}email{"}"}, como {"{"}username{"}"} o {"{"}email{"}"}

## La API y la comprobación por proxy
err-api-body-too-large = El cuerpo de la solicitud supera el límite de 2 MiB.
err-api-unreadable = No se pudo leer la solicitud: { $detail }
err-api-unauthorized = Envíe un token de API válido como Authorization: Bearer <token>.
err-api-forbidden = El ámbito de este token no lo permite.
err-api-no-route = Ese endpoint de la API no existe.
err-api-method-not-allowed = Este endpoint no acepta ese método HTTP; la cabecera Allow indica los que acepta.
err-api-refused = Se rechazó la solicitud.
err-api-body-timeout = El cuerpo de la solicitud no llegó a tiempo.
err-code-or-credential = Envíe un código o una credencial, no ambos.
err-webauthn-credential-missing = Una llave de seguridad responde con «credential»: lo que devolvió navigator.credentials.get(), tal como lo da su toJSON().
err-webauthn-credential-with-code = Una credencial va con "method": "webauthn" y sin código.
err-setting-value-type = { $key }: un ajuste es un booleano, un número entero o una cadena
err-forward-untrusted-proxy = Solo un proxy de confianza puede preguntar (TWOFOLD_TRUSTED_PROXIES).
err-forward-bad-target = no se puede leer la URL de la solicitud original
err-forward-headers-missing = El proxy debe enviar { $headers }.
err-forward-denied = Ha iniciado sesión, pero no tiene acceso aquí.
err-forward-sign-in = Inicie sesión primero.

## Envío de correos electrónicos y SMS
err-email-not-set-up = El envío de correo electrónico no está configurado en este servidor.
err-sms-not-set-up = El envío de SMS no está configurado en este servidor.
err-outbox-write = No se pudo escribir el mensaje en la carpeta de salida.
err-email-not-sent = No se pudo enviar el correo electrónico: { $problem }.
err-email-tls-setup = no se pudo preparar una conexión segura con el servidor de correo
err-email-from-invalid = la dirección de remitente de los ajustes de correo no es válida
err-email-to-invalid = la dirección del destinatario no es válida
err-email-build = no se pudo componer el mensaje
err-email-server-busy = el servidor de correo está ocupado, inténtelo más tarde
err-email-auth-required = el servidor de correo exige un nombre de usuario y una contraseña
err-email-auth-refused = el servidor de correo rechazó el nombre de usuario o la contraseña
err-email-refused = el servidor de correo rechazó el mensaje
err-email-no-starttls = el servidor de correo no ofrece STARTTLS
err-email-no-auth = el servidor de correo no acepta nombre de usuario ni contraseña en esta conexión
err-email-cannot-take = el servidor de correo no puede aceptar este mensaje
err-email-bad-answer = no se pudo entender la respuesta del servidor de correo
err-email-no-answer = el servidor de correo no respondió
err-email-tls-failed = no se pudo establecer una conexión segura con el servidor de correo (compruebe el ajuste de seguridad y el certificado del servidor)
err-sms-region-invalid = No se pudo enviar el SMS: la región de AWS de los ajustes de SNS no es válida.
err-sms-number-invalid = No se pudo enviar el SMS: el número de teléfono no está en formato internacional (+ y el código del país).
err-sms-url-invalid = No se pudo enviar el SMS: la URL del proveedor de SMS en los ajustes no es válida.
err-sms-provider-failed = El proveedor de SMS no pudo aceptar el mensaje (HTTP { $status }).
err-sms-provider-refused = El proveedor de SMS rechazó el mensaje (HTTP { $status }).
err-sms-no-answer = No se pudo enviar el SMS: el proveedor de SMS no respondió.
err-sms-tls-failed = No se pudo enviar el SMS: no se pudo establecer una conexión segura con el proveedor de SMS.
err-sms-unreachable = No se pudo enviar el SMS: no se pudo contactar con el proveedor de SMS.
err-sms-connection-failed = No se pudo enviar el SMS: falló la conexión con el proveedor de SMS.
