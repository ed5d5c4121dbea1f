# Las páginas del portal: inicio de sesión, segundo factor, alta de dispositivos, configuración de seguridad.
portal-cancel = Cancelar
server-time = Hora del servidor:
clock-ahead = El reloj de su dispositivo difiere del del servidor en unos { $seconds } segundos (va adelantado). Si se rechazan los códigos, configure el reloj de su teléfono para que se actualice automáticamente.
clock-behind = El reloj de su dispositivo difiere del del servidor en unos { $seconds } segundos (va atrasado). Si se rechazan los códigos, configure el reloj de su teléfono para que se actualice automáticamente.

## Tipos de factor, como los nombran las páginas
factor-key-synced = llave de acceso sincronizada
factor-key-device-bound = vinculada al dispositivo

## Llaves de seguridad y llaves de acceso (los muestra el script de la página)
webauthn-unsupported = Este navegador no admite llaves de seguridad ni llaves de acceso. Use otro navegador u otro método.
webauthn-unreadable = No se pudo leer la página. Vuelva a cargarla e inténtelo de nuevo.
webauthn-cancelled = La solicitud a la llave de seguridad se canceló o caducó. Inténtelo de nuevo cuando esté listo.
webauthn-registered = Esta llave de seguridad o llave de acceso ya está registrada en su cuenta.
webauthn-insecure = Esta dirección no permite usar llaves de seguridad: abra el servidor por su nombre de host mediante https (o por http://localhost).
webauthn-no-answer = Su llave de seguridad o llave de acceso no respondió{ $detail }. Inténtelo de nuevo o use otro método.
webauthn-answer-too-large = La respuesta de la llave de seguridad es demasiado grande.

## Iniciar sesión
login-title = Iniciar sesión
login-username = Nombre de usuario
login-password = Contraseña
login-submit = Iniciar sesión
login-passkey = Iniciar sesión con una llave de acceso

## El segundo factor
second-factor-title = Autenticación de dos factores
second-factor-backup-intro = Introduzca uno de los códigos de respaldo que anotó al configurar la autenticación de dos factores. Cada código funciona una sola vez.
second-factor-backup-code = Código de respaldo
second-factor-verify = Verificar
second-factor-use-device = Introducir en su lugar un código de su dispositivo
second-factor-protected-by = Su cuenta está protegida por:
second-factor-duo-help = Duo Security le pide que apruebe este inicio de sesión en su teléfono (o con otro método de Duo).
second-factor-duo = Iniciar sesión con Duo
second-factor-key = Usar su llave de seguridad o llave de acceso
second-factor-code = Código de autenticación
second-factor-use-backup = Usar un código de respaldo
second-factor-remember = { $days ->
    [one] Recordar este navegador durante { $days } día
   *[other] Recordar este navegador durante { $days } días
}
second-factor-locked = Demasiados intentos fallidos: su segundo factor está bloqueado durante un tiempo. Inténtelo más tarde o pida a un administrador que lo desbloquee.
second-factor-key-refused = No se aceptó su llave de seguridad o llave de acceso. Inténtelo de nuevo o use otro método.
second-factor-wrong-code = El código introducido no coincide con el esperado. Inténtelo de nuevo.
second-factor-code-sent = Hemos enviado un código a { $destination }. Introdúzcalo a continuación.
duo-refused-not-confirmed = Duo no confirmó este inicio de sesión. Inténtelo de nuevo.
duo-refused-used = Esta respuesta de Duo ya se usó o ha caducado. Inténtelo de nuevo.
duo-refused-device-not-confirmed = Duo no confirmó este dispositivo. Inténtelo de nuevo.
duo-refused-not-pending = Este dispositivo de Duo ya no está pendiente de configuración.

## Añadir un dispositivo
enroll-choose-title = Elija un servicio
enroll-required = La autenticación de dos factores es obligatoria para su cuenta. Configúrela para continuar.
enroll-none = No hay ningún método de dos factores habilitado para su cuenta. Consulte a un administrador.
enroll-service = Servicio
enroll-yubikey-aes = Clave AES de la YubiKey
enroll-yubikey-aes-help = (32 caracteres hexadecimales, tal como los mostró ykpersonalize)
enroll-yubikey-private-id = ID privado
enroll-yubikey-private-id-help = (12 caracteres hexadecimales)
enroll-device-name = Nombre del dispositivo
enroll-device-name-default = Aplicación de autenticación
enroll-start = Empezar
enroll-scan-title = Escanee el código QR
enroll-scan-intro = Escanee este código QR con una aplicación de autenticación, como Google Authenticator, Duo Mobile, Authy o 1Password. Si no puede escanearlo, introduzca en su lugar la clave que aparece abajo.
enroll-scan-qr-alt = Código QR para su aplicación de autenticación
enroll-scan-key = Clave:
enroll-device = Dispositivo: { $label }
enroll-enter-code = Introduzca el código de 6 dígitos
enroll-submit = Enviar
enroll-verify-title = Introduzca el código enviado
enroll-verify-sent-before = Hemos enviado un código de 6 dígitos a
enroll-verify-sent-after = {""}. Funciona una sola vez, durante unos minutos.
enroll-resend = Enviar un código nuevo
enroll-resent = Hemos enviado un código nuevo a { $destination }.
enroll-touch-title = Toque su YubiKey
enroll-touch-intro = Inserte su YubiKey ({ $label }), haga clic en el campo de abajo y toque la llave. Escribe un código de un solo uso y lo envía; así queda vinculada la llave a su cuenta.
enroll-touch-code = Código de la YubiKey
enroll-key-title = Registre su llave de seguridad o llave de acceso
enroll-key-intro = Haga clic en Continuar: su navegador le pedirá que toque su llave de seguridad o que desbloquee la llave de acceso en este dispositivo, en su teléfono o en su gestor de contraseñas. Así queda registrada en su cuenta.
enroll-key-noscript = Las llaves de seguridad y las llaves de acceso funcionan mediante un script de su navegador: active JavaScript para esta página o elija otro método.
enroll-duo-title = Continuar a Duo
enroll-duo-intro = Duo Security configura su dispositivo ({ $label }) en su propia página. Continúe a Duo, siga sus pasos y apruebe allí el inicio de sesión; al terminar volverá aquí, y Duo será una de sus formas de iniciar sesión.
duo-done-title = Duo está configurado
duo-done-intro = Duo Security es ahora una forma de iniciar sesión para { $username }. Puede cerrar esta página.
duo-done-codes = Guarde estos códigos de respaldo en un lugar seguro. Cada uno funciona una sola vez y le permiten entrar si pierde su dispositivo. No se volverán a mostrar.

## Códigos de respaldo
codes-fresh-title = Guarde sus códigos de respaldo
codes-view-title = Sus códigos de respaldo
codes-fresh = Guarde estos códigos de respaldo en un lugar seguro. Cada uno funciona una sola vez y le permiten entrar si pierde su dispositivo. No se volverán a mostrar a menos que introduzca su contraseña.
codes-used = Los códigos usados aparecen tachados.
codes-copy = Copiar al portapapeles
codes-copied = Copiado
codes-copy-failed = No se pudo copiar
codes-download = Descargar
codes-close = Cerrar
codes-file-header = Códigos de respaldo de Twofold. Cada uno funciona una sola vez.

## Primer inicio
setup-title = Crear la cuenta del propietario
setup-intro = El propietario es el administrador principal: gestiona la configuración de 2FA, los administradores y los tokens de API. Este enlace funciona una sola vez.
setup-email = Correo electrónico (opcional)
setup-password-again = Confirmar contraseña
setup-submit = Crear la cuenta del propietario
setup-password-mismatch = Las dos contraseñas no coinciden.
setup-link-title = Enlace de configuración
setup-link-gone = Este enlace de configuración ya no es válido.

## Confirmar su identidad
step-up-title = Confirme que es usted
step-up-intro = { $action ->
        [remove] Para eliminar un dispositivo
        [new-codes] Para obtener códigos de respaldo nuevos
        [view-codes] Para ver sus códigos de respaldo
        [disable] Para desactivar la autenticación de dos factores
       *[enroll] Para añadir un dispositivo
    }, introduzca su contraseña{ $proof ->
        [code] {" "}y un código actual de uno de sus dispositivos (o un código de respaldo)
        [key] {" "}y un código actual de uno de sus dispositivos (o un código de respaldo), o use su llave de seguridad
       *[none] {""}
    }. No se le volverá a preguntar durante 5 minutos.
step-up-code = Un código actual o un código de respaldo
step-up-continue = Continuar
step-up-password-missing = Introduzca su contraseña.

## Cerrar sesión
logout-intro = ¿Cerrar la sesión de Twofold en este navegador? Todas las aplicaciones que dependen de este inicio de sesión le pedirán que vuelva a iniciar sesión.

## Configuración de seguridad
security-twofa-on = La autenticación de dos factores está activada
security-twofa-on-help = Al iniciar sesión, después de la contraseña, Twofold le pide un código de uno de estos dispositivos.
security-devices = Sus dispositivos
security-col-device = Dispositivo
security-col-method = Método
security-col-added = Añadido
security-col-last-used = Último uso
security-col-action = Acción
security-not-confirmed = sin confirmar
security-remove = Eliminar
security-remove-label = Eliminar { $label }
security-add-device = Añadir otro dispositivo
security-twofa-off = La autenticación de dos factores está desactivada
security-twofa-off-help = Añada un segundo paso a su inicio de sesión: un código de su teléfono después de la contraseña, para que una contraseña filtrada no baste por sí sola.
security-enable = Activar la autenticación de dos factores
security-backup = Códigos de respaldo
security-backup-help = Use uno cuando no tenga su dispositivo.
security-view-codes = Ver los códigos de respaldo
security-new-codes-help = Los códigos nuevos sustituyen a los anteriores, que dejan de funcionar.
security-new-codes = Obtener códigos nuevos
security-turn-off = Desactivar
security-required = La autenticación de dos factores es obligatoria para su cuenta.
security-turn-off-help = Al desactivarla se eliminan todos sus dispositivos y códigos de respaldo, y se cierra su sesión en todas partes, también en este navegador.
security-turn-off-submit = Desactivar la autenticación de dos factores
security-password-help = Al cambiar la contraseña se cierra su sesión en todas partes, también en este navegador.
security-current-password = Contraseña actual
security-new-password = Contraseña nueva
security-new-password-again = Repita la contraseña nueva
security-change-password = Cambiar la contraseña
security-password-mismatch = Las contraseñas nuevas no coinciden.
security-sessions = Sesiones activas
security-sessions-caption = Dónde tiene la sesión iniciada
security-col-browser = Navegador
security-col-ip = Dirección IP
security-col-signed-in = Inicio de sesión
security-this-browser = este navegador
security-signing-in = iniciando sesión
security-ip-unknown = desconocida
security-sign-out = Cerrar sesión
security-sign-out-label = Cerrar sesión en { $browser }
security-browsers = Navegadores recordados
security-no-browsers = No hay ningún navegador recordado. Marque «Recordar este navegador» al introducir un código y ese navegador solo le pedirá la contraseña durante un tiempo.
security-browsers-caption = Estos navegadores inician su sesión solo con la contraseña
security-col-remembered = Recordado
security-col-until = Hasta
security-forget = Olvidar
security-forget-label = Olvidar { $browser }
security-end-all-help = Cierra todas las sesiones, también esta, y olvida todos los navegadores recordados.
security-end-all = Cerrar sesión en todas partes

## Lo que ofrecen las páginas del segundo factor y de alta de dispositivos
