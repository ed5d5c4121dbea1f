-brand = Twofold
skip-to-content = Aller au contenu
nav-main = Menu principal
nav-security = Paramètres de sécurité
nav-admin = Administration
signed-in-as = Connecté en tant que { $username }
signing-in-as = Connexion en tant que { $username }
log-out = Se déconnecter
footer = Twofold · authentification à deux facteurs
language = Langue
language-change = Changer
language-menu = Choisir une langue
backup-codes-left = { $count ->
    [one] { $count } code de secours inutilisé restant.
   *[other] { $count } codes de secours inutilisés restants.
}
language-label = Langue des pages, e-mails et SMS
language-browser = Langue du navigateur
language-help = Les pages, e-mails et SMS sont dans cette langue. « Langue du navigateur » suit le réglage de votre navigateur.
language-save = Enregistrer la langue
language-unknown-title = Langue inconnue
language-unknown = Choisissez l’une des langues de la liste.
back-to-security = Retour aux paramètres de sécurité
go-to-start = Aller à la page d’accueil
no-access-title = Accès refusé
no-access = Vous n’avez pas accès à cette page.
not-found-title = Page introuvable
not-found = Cette page n’existe pas.
form-refused-title = Formulaire refusé
form-refused = Le formulaire a expiré ou n’a pas été envoyé depuis ce site. Revenez en arrière, rechargez la page et réessayez.
internal-title = Une erreur s’est produite
internal = Une erreur s’est produite sur le serveur ; les détails figurent dans son journal.
notice-owner-created = Le compte propriétaire a été créé. Connectez-vous.
notice-logged-out = Vous êtes déconnecté.
notice-expired = Votre connexion a pris trop de temps. Veuillez recommencer.
notice-device-added = Appareil ajouté.
notice-device-removed = Appareil supprimé.
notice-twofa-off = L’authentification à deux facteurs est désactivée.
notice-reset-done = L’authentification à deux facteurs a été réinitialisée.
notice-unlocked = Le second facteur a été débloqué.
notice-disabled = Le compte a été désactivé.
notice-enabled = Le compte a été activé.
notice-settings-saved = Paramètres enregistrés.
notice-login-required = Veuillez vous connecter.
notice-duo-failed = Duo n’a pas confirmé cette connexion. Veuillez vous connecter et réessayer.
notice-signed-out-everywhere = Vous êtes déconnecté partout. Connectez-vous à nouveau.
notice-session-ended = Cette session a été déconnectée.
notice-browser-forgotten = Ce navigateur est oublié : sa prochaine connexion demandera de nouveau le second facteur.
notice-password-changed = Votre mot de passe a été modifié et toutes les sessions ont été déconnectées. Connectez-vous avec le nouveau mot de passe.
notice-signed-out = Votre session a pris fin. Connectez-vous à nouveau.
notice-last-device-removed = Appareil supprimé. C’était le dernier : toutes les sessions ont été déconnectées. Connectez-vous à nouveau.
notice-twofa-off-signed-out = L’authentification à deux facteurs est désactivée et toutes les sessions ont été déconnectées. Connectez-vous à nouveau.
notice-language-saved = Langue enregistrée.

kind-totp = Codes temporels
kind-email = Codes par e-mail
kind-sms = Codes par SMS
kind-yubikey = YubiKey
kind-duo = Duo Security
kind-webauthn = Clé de sécurité ou clé d’accès
kind-hotp = Codes à compteur
offer-method = { $kind ->
    [totp] { kind-totp }
    [email] { kind-email }
    [sms] { kind-sms }
    [yubikey] { kind-yubikey }
    [duo] { kind-duo }
    [webauthn] { kind-webauthn }
   *[hotp] { kind-hotp }
} ({ $label })
offer-send-email = M’envoyer un code par e-mail ({ $to })
offer-send-sms = M’envoyer un code par SMS ({ $to })
offer-help-totp = Une application sur votre téléphone, comme Google Authenticator, Duo Mobile ou Authy, affiche un nouveau code à 6 chiffres toutes les 30 secondes.
offer-help-email = Un code à 6 chiffres envoyé à { $to } à chaque connexion.
offer-help-sms = Un code à 6 chiffres envoyé par SMS au { $to } à chaque connexion.
offer-help-yubikey = Une YubiKey : branchez-la et touchez-la ; elle saisit un code à usage unique.
offer-help-duo = Duo Security : approuvez chaque connexion dans Duo Mobile (ou avec une autre méthode Duo). La configuration se fait dans la fenêtre de Duo.
offer-help-webauthn = Une clé de sécurité (comme une YubiKey) ou une clé d’accès sur votre téléphone, votre ordinateur ou votre gestionnaire de mots de passe : touchez-la ou déverrouillez-la pour vous connecter.
offer-help-hotp = Un jeton qui affiche un nouveau code à chaque pression sur son bouton.
offer-help-touch-key = Touchez votre YubiKey : elle saisit son code et l’envoie.
offer-help-key-or-backup = Utilisez votre clé de sécurité ou votre clé d’accès, ou saisissez un code de secours.
offer-help-duo-or-backup = Utilisez « Se connecter avec Duo » ci-dessous, ou un code de secours.
offer-way-totp = { $position ->
    [first] { $other ->
        [0] Le code à { $digits } chiffres affiché en ce moment par votre application d’authentification.
       *[other] Le code à { $digits } ou { $other } chiffres affiché en ce moment par votre application d’authentification.
    }
   *[more] { $other ->
        [0] Ou saisissez le code à { $digits } chiffres affiché en ce moment par votre application d’authentification.
       *[other] Ou saisissez le code à { $digits } ou { $other } chiffres affiché en ce moment par votre application d’authentification.
    }
}
offer-way-hotp = { $position ->
    [first] { $other ->
        [0] Le code à { $digits } chiffres que votre jeton affiche quand vous appuyez sur son bouton.
       *[other] Le code à { $digits } ou { $other } chiffres que votre jeton affiche quand vous appuyez sur son bouton.
    }
   *[more] { $other ->
        [0] Ou saisissez le code à { $digits } chiffres que votre jeton affiche quand vous appuyez sur son bouton.
       *[other] Ou saisissez le code à { $digits } ou { $other } chiffres que votre jeton affiche quand vous appuyez sur son bouton.
    }
}
offer-way-sent = { $position ->
    [first] Le code à 6 chiffres que nous vous avons envoyé.
   *[more] Ou saisissez le code à 6 chiffres que nous vous avons envoyé.
}
offer-way-duo = { $position ->
    [first] Un code d’accès de Duo Mobile.
   *[more] Ou saisissez un code d’accès de Duo Mobile.
}
