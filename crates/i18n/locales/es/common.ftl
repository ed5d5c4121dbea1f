-brand = Twofold
skip-to-content = Ir al contenido
nav-main = Menú principal
nav-security = Configuración de seguridad
nav-admin = Administración
signed-in-as = Sesión iniciada como { $username }
signing-in-as = Iniciando sesión como { $username }
log-out = Cerrar sesión
footer = Twofold · autenticación de dos factores
language = Idioma
language-change = Cambiar
language-menu = Elegir un idioma
backup-codes-left = { $count ->
    [one] Queda { $count } código de respaldo sin usar.
   *[other] Quedan { $count } códigos de respaldo sin usar.
}
language-label = Idioma de las páginas, los correos y los SMS
language-browser = Idioma del navegador
language-help = Las páginas, los correos y los SMS están en este idioma. «Idioma del navegador» sigue la configuración de su navegador.
language-save = Guardar idioma
language-unknown-title = Idioma desconocido
language-unknown = Elija uno de los idiomas de la lista.
back-to-security = Volver a la configuración de seguridad
go-to-start = Ir a la página de inicio
no-access-title = Sin acceso
no-access = No tiene acceso a esta página.
not-found-title = No encontrada
not-found = Esta página no existe.
form-refused-title = Formulario rechazado
form-refused = El formulario caducó o no se envió desde este sitio. Vuelva atrás, recargue la página e inténtelo de nuevo.
internal-title = Algo salió mal
internal = Algo salió mal en el servidor; los detalles están en su registro.
notice-owner-created = Se creó la cuenta de propietario. Inicie sesión.
notice-logged-out = Ha cerrado la sesión.
notice-expired = Su inicio de sesión tardó demasiado. Vuelva a empezar.
notice-device-added = Dispositivo añadido.
notice-device-removed = Dispositivo eliminado.
notice-twofa-off = La autenticación de dos factores está desactivada.
notice-reset-done = Se restableció la autenticación de dos factores.
notice-unlocked = Se desbloqueó el segundo factor.
notice-disabled = La cuenta se desactivó.
notice-enabled = La cuenta se activó.
notice-settings-saved = Configuración guardada.
notice-login-required = Inicie sesión.
notice-duo-failed = Duo no confirmó este inicio de sesión. Inicie sesión e inténtelo de nuevo.
notice-signed-out-everywhere = Ha cerrado la sesión en todas partes. Vuelva a iniciar sesión.
notice-session-ended = Se cerró esa sesión.
notice-browser-forgotten = Ese navegador se olvidó: su próximo inicio de sesión volverá a pedir el segundo factor.
notice-password-changed = Su contraseña se cambió y se cerraron todas las sesiones. Inicie sesión con la nueva contraseña.
notice-signed-out = Su sesión terminó. Vuelva a iniciar sesión.
notice-last-device-removed = Dispositivo eliminado. Era el último, así que se cerraron todas las sesiones. Vuelva a iniciar sesión.
notice-twofa-off-signed-out = La autenticación de dos factores está desactivada y se cerraron todas las sesiones. Vuelva a iniciar sesión.
notice-language-saved = Idioma guardado.

kind-totp = Códigos basados en tiempo
kind-email = Códigos por correo electrónico
kind-sms = Códigos por SMS
kind-yubikey = YubiKey
kind-duo = Duo Security
kind-webauthn = Llave de seguridad o llave de acceso
kind-hotp = Códigos basados en contador
offer-method = { $kind ->
    [totp] { kind-totp }
    [email] { kind-email }
    [sms] { kind-sms }
    [yubikey] { kind-yubikey }
    [duo] { kind-duo }
    [webauthn] { kind-webauthn }
   *[hotp] { kind-hotp }
} ({ $label })
offer-send-email = Enviarme un código por correo ({ $to })
offer-send-sms = Enviarme un código por SMS ({ $to })
offer-help-totp = Una aplicación en su teléfono, como Google Authenticator, Duo Mobile o Authy, muestra un código nuevo de 6 dígitos cada 30 segundos.
offer-help-email = Un código de 6 dígitos enviado a { $to } cada vez que inicie sesión.
offer-help-sms = Un código de 6 dígitos enviado por SMS al { $to } cada vez que inicie sesión.
offer-help-yubikey = Una YubiKey: conéctela y tóquela; escribe un código de un solo uso.
offer-help-duo = Duo Security: apruebe cada inicio de sesión en Duo Mobile (o con otro método de Duo). Se configura en la ventana de Duo.
offer-help-webauthn = Una llave de seguridad (como una YubiKey) o una llave de acceso en su teléfono, su computadora o su gestor de contraseñas: tóquela o desbloquéela para iniciar sesión.
offer-help-hotp = Un token que muestra un código nuevo cada vez que pulsa su botón.
offer-help-touch-key = Toque su YubiKey: escribe su código y lo envía.
offer-help-key-or-backup = Use su llave de seguridad o llave de acceso, o introduzca un código de respaldo.
offer-help-duo-or-backup = Use «Iniciar sesión con Duo» más abajo, o un código de respaldo.
offer-way-totp = { $position ->
    [first] { $other ->
        [0] El código de { $digits } dígitos que muestra ahora su aplicación de autenticación.
       *[other] El código de { $digits } u { $other } dígitos que muestra ahora su aplicación de autenticación.
    }
   *[more] { $other ->
        [0] O introduzca el código de { $digits } dígitos que muestra ahora su aplicación de autenticación.
       *[other] O introduzca el código de { $digits } u { $other } dígitos que muestra ahora su aplicación de autenticación.
    }
}
offer-way-hotp = { $position ->
    [first] { $other ->
        [0] El código de { $digits } dígitos que muestra su token al pulsar su botón.
       *[other] El código de { $digits } u { $other } dígitos que muestra su token al pulsar su botón.
    }
   *[more] { $other ->
        [0] O introduzca el código de { $digits } dígitos que muestra su token al pulsar su botón.
       *[other] O introduzca el código de { $digits } u { $other } dígitos que muestra su token al pulsar su botón.
    }
}
offer-way-sent = { $position ->
    [first] El código de 6 dígitos que le enviamos.
   *[more] O introduzca el código de 6 dígitos que le enviamos.
}
offer-way-duo = { $position ->
    [first] Un código de acceso de Duo Mobile.
   *[more] O introduzca un código de acceso de Duo Mobile.
}
