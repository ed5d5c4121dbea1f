# Les pages du portail : connexion, second facteur, ajout d’un appareil, paramètres de sécurité.
portal-cancel = Annuler
server-time = Heure du serveur :
clock-ahead = L’horloge de votre appareil diffère de celle du serveur d’environ { $seconds } secondes (en avance). Si les codes sont refusés, réglez l’horloge de votre téléphone pour qu’elle se mette à jour automatiquement.
clock-behind = L’horloge de votre appareil diffère de celle du serveur d’environ { $seconds } secondes (en retard). Si les codes sont refusés, réglez l’horloge de votre téléphone pour qu’elle se mette à jour automatiquement.

## Types de facteurs, tels que les pages les nomment
factor-key-synced = clé d’accès synchronisée
factor-key-device-bound = liée à l’appareil

## Clés de sécurité et clés d’accès (affichés par le script de la page)
webauthn-unsupported = Ce navigateur ne prend pas en charge les clés de sécurité ni les clés d’accès. Utilisez un autre navigateur ou une autre méthode.
webauthn-unreadable = La page n’a pas pu être lue. Rechargez-la et réessayez.
webauthn-cancelled = La demande à la clé de sécurité a été annulée ou a expiré. Réessayez quand vous serez prêt.
webauthn-registered = Cette clé de sécurité ou clé d’accès est déjà enregistrée sur votre compte.
webauthn-insecure = Cette adresse ne permet pas d’utiliser des clés de sécurité : ouvrez le serveur par son nom d’hôte en https (ou par http://localhost).
webauthn-no-answer = Votre clé de sécurité ou clé d’accès n’a pas répondu{ $detail }. Réessayez ou utilisez une autre méthode.
webauthn-answer-too-large = La réponse de la clé de sécurité est trop volumineuse.

## Connexion
login-title = Connexion
login-username = Nom d’utilisateur
login-password = Mot de passe
login-submit = Se connecter
login-passkey = Se connecter avec une clé d’accès

## Le second facteur
second-factor-title = Authentification à deux facteurs
second-factor-backup-intro = Saisissez l’un des codes de secours que vous avez notés lors de la configuration de l’authentification à deux facteurs. Chaque code ne fonctionne qu’une fois.
second-factor-backup-code = Code de secours
second-factor-verify = Vérifier
second-factor-use-device = Saisir plutôt un code de votre appareil
second-factor-protected-by = Votre compte est protégé par :
second-factor-duo-help = Duo Security vous demande d’approuver cette connexion sur votre téléphone (ou avec une autre méthode Duo).
second-factor-duo = Se connecter avec Duo
second-factor-key = Utiliser votre clé de sécurité ou clé d’accès
second-factor-code = Code d’authentification
second-factor-use-backup = Utiliser un code de secours
second-factor-remember = { $days ->
    [one] Mémoriser ce navigateur pendant { $days } jour
   *[other] Mémoriser ce navigateur pendant { $days } jours
}
second-factor-locked = Trop de tentatives échouées : votre second facteur est bloqué pour un moment. Réessayez plus tard ou demandez à un administrateur de le débloquer.
second-factor-key-refused = Votre clé de sécurité ou clé d’accès n’a pas été acceptée. Réessayez ou utilisez une autre méthode.
second-factor-wrong-code = Le code saisi ne correspond pas au code attendu. Veuillez réessayer.
second-factor-code-sent = Nous avons envoyé un code à { $destination }. Saisissez-le ci-dessous.
duo-refused-not-confirmed = Duo n’a pas confirmé cette connexion. Veuillez réessayer.
duo-refused-used = Cette réponse de Duo a déjà été utilisée ou a expiré. Veuillez réessayer.
duo-refused-device-not-confirmed = Duo n’a pas confirmé cet appareil. Veuillez réessayer.
duo-refused-not-pending = Cet appareil Duo n’est plus en attente de configuration.

## Ajouter un appareil
enroll-choose-title = Choisir un service
enroll-required = L’authentification à deux facteurs est obligatoire pour votre compte. Configurez-la pour continuer.
enroll-none = Aucune méthode d’authentification à deux facteurs n’est activée pour votre compte. Adressez-vous à un administrateur.
enroll-service = Service
enroll-yubikey-aes = Clé AES de la YubiKey
enroll-yubikey-aes-help = (32 caractères hexadécimaux, tels qu’affichés par ykpersonalize)
enroll-yubikey-private-id = Identifiant privé
enroll-yubikey-private-id-help = (12 caractères hexadécimaux)
enroll-device-name = Nom de l’appareil
enroll-device-name-default = Application d’authentification
enroll-start = Commencer
enroll-scan-title = Scanner le code QR
enroll-scan-intro = Scannez ce code QR avec une application d’authentification, comme Google Authenticator, Duo Mobile, Authy ou 1Password. Si vous ne pouvez pas le scanner, saisissez plutôt la clé ci-dessous.
enroll-scan-qr-alt = Code QR pour votre application d’authentification
enroll-scan-key = Clé :
enroll-device = Appareil : { $label }
enroll-enter-code = Saisissez le code à 6 chiffres
enroll-submit = Valider
enroll-verify-title = Saisissez le code envoyé
enroll-verify-sent-before = Nous avons envoyé un code à 6 chiffres à
enroll-verify-sent-after = {""}. Il ne fonctionne qu’une fois, pendant quelques minutes.
enroll-resend = Envoyer un nouveau code
enroll-resent = Nous avons envoyé un nouveau code à { $destination }.
enroll-touch-title = Touchez votre YubiKey
enroll-touch-intro = Insérez votre YubiKey ({ $label }), cliquez dans le champ ci-dessous et touchez la clé. Elle saisit un code à usage unique et l’envoie ; cela associe cette clé à votre compte.
enroll-touch-code = Code YubiKey
enroll-key-title = Enregistrer votre clé de sécurité ou clé d’accès
enroll-key-intro = Cliquez sur Continuer : votre navigateur vous demande de toucher votre clé de sécurité ou de déverrouiller la clé d’accès sur cet appareil, votre téléphone ou votre gestionnaire de mots de passe. Elle est alors enregistrée sur votre compte.
enroll-key-noscript = Les clés de sécurité et clés d’accès passent par un script de votre navigateur : activez JavaScript pour cette page ou choisissez une autre méthode.
enroll-duo-title = Continuer vers Duo
enroll-duo-intro = Duo Security configure votre appareil ({ $label }) sur sa propre page. Continuez vers Duo, suivez ses étapes et approuvez-y la connexion ; vous revenez ici une fois terminé, et Duo devient l’une de vos méthodes de connexion.
duo-done-title = Duo est configuré
duo-done-intro = Duo Security est désormais une méthode de connexion pour { $username }. Vous pouvez fermer cette page.
duo-done-codes = Conservez ces codes de secours en lieu sûr. Chacun ne fonctionne qu’une fois, et ils vous permettent d’accéder à votre compte si vous perdez votre appareil. Ils ne seront plus affichés.

## Codes de secours
codes-fresh-title = Notez vos codes de secours
codes-view-title = Vos codes de secours
codes-fresh = Conservez ces codes de secours en lieu sûr. Chacun ne fonctionne qu’une fois, et ils vous permettent d’accéder à votre compte si vous perdez votre appareil. Ils ne seront plus affichés à moins que vous ne saisissiez votre mot de passe.
codes-used = Les codes utilisés sont barrés.
codes-copy = Copier dans le presse-papiers
codes-copied = Copié
codes-copy-failed = La copie a échoué
codes-download = Télécharger
codes-close = Fermer
codes-file-header = Codes de secours Twofold. Chacun ne fonctionne qu’une fois.

## Premier lancement
setup-title = Créer le compte propriétaire
setup-intro = Le propriétaire est l’administrateur principal : il gère les paramètres 2FA, les administrateurs et les jetons d’API. Ce lien ne fonctionne qu’une fois.
setup-email = E-mail (facultatif)
setup-password-again = Confirmer le mot de passe
setup-submit = Créer le compte propriétaire
setup-password-mismatch = Les deux mots de passe ne sont pas identiques.
setup-link-title = Lien de configuration
setup-link-gone = Ce lien de configuration n’est plus valide.

## Confirmer votre identité
step-up-title = Confirmez qu’il s’agit bien de vous
step-up-intro = { $action ->
        [remove] Pour supprimer un appareil
        [new-codes] Pour obtenir de nouveaux codes de secours
        [view-codes] Pour voir vos codes de secours
        [disable] Pour désactiver l’authentification à deux facteurs
       *[enroll] Pour ajouter un appareil
    }, saisissez votre mot de passe{ $proof ->
        [code] {" "}et un code actuel de l’un de vos appareils (ou un code de secours)
        [key] {" "}et un code actuel de l’un de vos appareils (ou un code de secours), ou utilisez votre clé de sécurité
       *[none] {""}
    }. Cela ne vous sera plus demandé pendant 5 minutes.
step-up-code = Un code actuel ou un code de secours
step-up-continue = Continuer
step-up-password-missing = Saisissez votre mot de passe.

## Déconnexion
logout-intro = Se déconnecter de Twofold dans ce navigateur ? Chaque application qui s’appuie sur cette connexion vous demandera de vous reconnecter.

## Paramètres de sécurité
security-twofa-on = L’authentification à deux facteurs est activée
security-twofa-on-help = Lors de la connexion, Twofold vous demande, après votre mot de passe, un code de l’un de ces appareils.
security-devices = Vos appareils
security-col-device = Appareil
security-col-method = Méthode
security-col-added = Ajouté
security-col-last-used = Dernière utilisation
security-col-action = Action
security-not-confirmed = non confirmé
security-remove = Supprimer
security-remove-label = Supprimer { $label }
security-add-device = Ajouter un autre appareil
security-twofa-off = L’authentification à deux facteurs est désactivée
security-twofa-off-help = Ajoutez une seconde étape à votre connexion : un code de votre téléphone après votre mot de passe, pour qu’un mot de passe divulgué ne suffise pas à lui seul.
security-enable = Activer l’authentification à deux facteurs
security-backup = Codes de secours
security-backup-help = Utilisez-en un lorsque vous n’avez pas votre appareil.
security-view-codes = Voir les codes de secours
security-new-codes-help = Les nouveaux codes remplacent les anciens, qui cessent de fonctionner.
security-new-codes = Obtenir de nouveaux codes
security-turn-off = Désactiver
security-required = L’authentification à deux facteurs est obligatoire pour votre compte.
security-turn-off-help = La désactiver supprime tous vos appareils et codes de secours, et vous déconnecte partout, y compris dans ce navigateur.
security-turn-off-submit = Désactiver l’authentification à deux facteurs
security-password-help = Changer votre mot de passe vous déconnecte partout, y compris dans ce navigateur.
security-current-password = Mot de passe actuel
security-new-password = Nouveau mot de passe
security-new-password-again = Confirmer le nouveau mot de passe
security-change-password = Changer le mot de passe
security-password-mismatch = Les nouveaux mots de passe ne correspondent pas.
security-sessions = Sessions actives
security-sessions-caption = Où vous êtes connecté
security-col-browser = Navigateur
security-col-ip = Adresse IP
security-col-signed-in = Connexion
security-this-browser = ce navigateur
security-signing-in = connexion en cours
security-ip-unknown = inconnue
security-sign-out = Déconnecter
security-sign-out-label = Déconnecter { $browser }
security-browsers = Navigateurs mémorisés
security-no-browsers = Aucun navigateur n’est mémorisé. Cochez « Mémoriser ce navigateur » lorsque vous saisissez un code : ce navigateur ne vous demandera alors que votre mot de passe pendant un certain temps.
security-browsers-caption = Ces navigateurs vous connectent avec votre seul mot de passe
security-col-remembered = Mémorisé le
security-col-until = Expire le
security-forget = Oublier
security-forget-label = Oublier { $browser }
security-end-all-help = Met fin à toutes les sessions, y compris celle-ci, et oublie tous les navigateurs mémorisés.
security-end-all = Se déconnecter partout

## Ce que proposent les pages du second facteur et d’ajout d’un appareil
