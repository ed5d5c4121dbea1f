# Erreurs et refus : le `message` de l’API, les erreurs de formulaire, les Reply-Message RADIUS.

## Connexion et déconnexion
err-credentials-wrong = Nom d’utilisateur ou mot de passe incorrect.
err-password-wrong = Le mot de passe est incorrect.
err-current-password-wrong = Votre mot de passe actuel est incorrect.
err-password-length = Un mot de passe compte de { $min } à { $max } caractères.
err-account-disabled = Ce compte est désactivé.
err-2fa-required = L’authentification à deux facteurs est obligatoire pour votre compte.
err-set-up-2fa-first = Configurez d’abord l’authentification à deux facteurs.
err-finish-login-first = Terminez d’abord la connexion.
err-login-not-waiting-code = Cette connexion n’attend pas de code.
err-login-not-waiting-second-factor = Cette connexion n’attend pas de second facteur.
err-login-already-completed = Cette connexion est déjà terminée.
err-login-not-enrolling = Cette connexion n’est pas en cours d’inscription d’un appareil.
err-setup-link-invalid = Ce lien de configuration n’est plus valide.
err-passkey-unknown = Cette clé d’accès n’a pas été acceptée : elle n’est pas enregistrée ici, ou cette connexion a expiré. Réessayez, ou connectez-vous avec votre mot de passe.
err-passkey-refused = La réponse de votre clé d’accès a été refusée. Veuillez réessayer.
err-passwordless-disabled = La connexion sans mot de passe n’est pas activée sur ce serveur.

## Limitation et verrouillage
err-server-busy = Le serveur est occupé. Réessayez dans un instant.
err-too-many-attempts-wait = Trop de tentatives échouées. Réessayez dans { $seconds ->
    [one] { $seconds } seconde
   *[other] { $seconds } secondes
}.
err-code-sent-recently = Un code a été envoyé récemment. Vous pourrez en demander un nouveau dans { $seconds ->
    [one] { $seconds } seconde
   *[other] { $seconds } secondes
}.
err-locked = Trop de tentatives échouées : votre second facteur est verrouillé pour un moment.
err-locked-ask-admin = Trop de tentatives échouées : votre second facteur est verrouillé pour un moment. Réessayez plus tard ou demandez à un administrateur de le déverrouiller.
err-locked-unlock-first = Trop de codes erronés : le second facteur de cet utilisateur est verrouillé pour un moment. Déverrouillez d’abord l’utilisateur.

## Confirmer votre identité avant une action sensible
err-step-up-remove-device = Confirmez votre identité pour supprimer un appareil : saisissez votre mot de passe et un code actuel.
err-step-up-new-backup-codes = Confirmez votre identité pour obtenir de nouveaux codes de secours : saisissez votre mot de passe et un code actuel.
err-step-up-view-backup-codes = Confirmez votre identité pour voir vos codes de secours : saisissez votre mot de passe et un code actuel.
err-step-up-disable-2fa = Confirmez votre identité pour désactiver l’authentification à deux facteurs : saisissez votre mot de passe et un code actuel.
err-step-up-change-contact = Confirmez votre identité pour modifier votre adresse e-mail ou votre numéro de téléphone : saisissez votre mot de passe et un code actuel.
err-step-up-add-device = Confirmez votre identité pour ajouter un appareil : saisissez votre mot de passe et un code actuel.

## Codes
err-code-malformed = Ce n’est pas un code : saisissez le code à 6 chiffres de votre application ou un code de secours de 10 caractères.
err-code-wrong = Le code saisi ne correspond pas. Veuillez réessayer.
err-code-missing = Saisissez le code de votre application d’authentification ou un code de secours.
err-code-missing-current = Saisissez un code actuel de votre appareil ou un code de secours.
err-code-sent-by-email-sms = Un code est envoyé par email ou sms.
err-unknown-method = Méthode inconnue : utilisez totp, hotp, email, sms, yubikey, duo ou backup_code.
err-unknown-kind = Méthode inconnue : utilisez totp, hotp, email, sms, yubikey, duo ou webauthn.
err-method-not-for-account = Cette méthode n’est pas disponible pour votre compte.
err-method-not-enabled-for-role = Cette méthode n’est pas activée pour le rôle de cet utilisateur : { $method }.

## Utilisateurs
err-user-not-found = Aucun utilisateur ne porte ce nom.
err-user-exists = Un utilisateur portant ce nom existe déjà.
err-username-invalid = un nom d’utilisateur compte de 1 à 64 caractères : lettres, chiffres et . _ @ + - (ni espaces ni autres symboles)
err-email-invalid = cela ne ressemble pas à une adresse e-mail
err-phone-invalid = un numéro de téléphone commence par +, suivi de l’indicatif du pays et du numéro : 8 à 15 chiffres en tout
err-role-invalid = Un rôle est client, admin ou owner.
err-role-value-invalid = un rôle est client, admin ou owner
err-email-missing = Ajoutez d’abord une adresse e-mail au compte.
err-phone-missing = Ajoutez d’abord un numéro de téléphone au compte.

## Appareils (facteurs)
err-factor-not-found = Cet utilisateur n’a aucun facteur avec cet identifiant.
err-user-has-no-factor = Cet utilisateur n’a pas de facteur de ce type : { $method }.
err-factor-no-codes = Ce facteur ne reçoit pas de codes.
err-factor-no-qr = Ce facteur n’a pas de code QR.
err-factor-cannot-confirm = Ce facteur ne peut pas être confirmé dans cette version.
err-factor-already-confirmed = Ce facteur est déjà confirmé.
err-too-many-factors = Un utilisateur peut avoir au plus { $max } facteurs ; supprimez-en d’abord un.
err-last-factor = L’authentification à deux facteurs est obligatoire pour votre compte : ajoutez un autre appareil avant de supprimer celui-ci.
err-label-invalid = Un libellé compte de 1 à 64 caractères.
err-confirm-code-missing = Envoyez le code affiché par l’appareil pour le confirmer.
err-backup-codes-need-factor = Les codes de secours accompagnent un facteur confirmé ; configurez-en d’abord un.
err-algorithm-invalid = L’algorithme est sha1, sha256 ou sha512.
err-digits-invalid = Un code compte 6 ou 8 chiffres.
err-period-invalid = La période est de { $min } à { $max } secondes.
err-otp-fields-unexpected = algorithm, digits et period concernent un facteur totp ou hotp.
err-hotp-no-period = Un jeton à compteur n’a pas de période : envoyez seulement algorithm et digits.
err-hotp-added-by-admin = Les jetons à compteur sont ajoutés par un administrateur.
err-resync-hotp-only = Seul un jeton à compteur (HOTP) se resynchronise.
err-resync-not-confirmed = Ce jeton n’est pas encore confirmé : confirmez-le plutôt avec un code.
err-resync-codes-missing = Envoyez deux codes affichés successivement par le jeton : code1 et code2.

## Clés de sécurité et clés d’accès
err-credential-missing = Une clé de sécurité se confirme avec l’identifiant créé par le navigateur : envoyez « credential ».
err-credential-registered = Cette clé de sécurité ou clé d’accès est déjà enregistrée.
err-credential-unreadable = L’identifiant n’a pas pu être lu : { $reason }.
err-credential-too-large = il est trop volumineux
err-webauthn-public-url = Les clés de sécurité exigent que l’URL publique du serveur (public_url) ait un nom d’hôte.
err-rp-id-mismatch = L’identifiant de la partie de confiance { $rp_id } n’est ni l’hôte de l’URL publique ({ $host }) ni un domaine parent de celui-ci : corrigez webauthn.rp_id.
err-factor-not-security-key = Ce facteur n’est pas une clé de sécurité.
err-factor-confirmed-with-code = Ce facteur se confirme avec un code, pas avec un identifiant.
err-security-key-refused = La réponse de la clé de sécurité a été refusée : réessayez.
err-no-security-key = Cet utilisateur n’a ni clé de sécurité ni clé d’accès.

## YubiKey
err-yubikey-fields-unexpected = aes_key et private_id concernent une YubiKey.
err-yubikey-secret-missing = En mode local, une YubiKey s’ajoute avec sa clé AES (32 caractères hexadécimaux) et son identifiant privé (12 caractères hexadécimaux), tels que ykpersonalize les a affichés.
err-yubikey-server-mode = Le mode YubiKey est « server » : les serveurs de validation détiennent la clé ; n’envoyez ni aes_key ni private_id.
err-aes-key-invalid = La clé AES compte 32 caractères hexadécimaux (16 octets).
err-private-id-invalid = L’identifiant privé compte 12 caractères hexadécimaux (6 octets).
err-yubikey-yours = Cette YubiKey fait déjà partie des appareils de ce compte.
err-yubikey-taken = Cette YubiKey est enregistrée sur un autre compte. Adressez-vous à un administrateur.
err-yubikey-not-bound = Seule une YubiKey liée à un identifiant public est libérée de cette façon.
err-client-name-invalid = Un nom de client compte de 1 à 64 lettres, chiffres, points, tirets ou tirets bas.
err-validation-client-exists = Un client de validation nommé { $name } existe déjà.
err-validation-client-unknown = Aucun client de validation nommé { $name }.

## Duo
err-duo-unreachable = Duo est injoignable ; essayez une autre méthode ou un code de secours.
err-duo-cannot-be-used = Duo ne peut pas être utilisé pour le moment ; essayez une autre méthode ou un code de secours.
err-duo-cannot-be-used-reason = Duo ne peut pas être utilisé : { $reason }
err-duo-check-failed = Duo n’a pas pu vérifier ceci : { $reason }
err-duo-why-unreachable = Duo est injoignable.
err-duo-why-refused = Duo a refusé la demande.
err-duo-why-invalid = La réponse de Duo n’a pas passé les vérifications de Twofold.
err-duo-push-timeout = Duo n’a pas confirmé : la notification push n’a pas reçu de réponse à temps.
err-duo-denied = Duo n’a pas confirmé : la notification push a été refusée ou le code d’accès était erroné.
err-duo-not-available = Duo n’est pas disponible pour ce compte.
err-duo-not-set-up = Duo n’est pas configuré : renseignez d’abord les clés Duo Web SDK ou Auth API et le nom d’hôte de l’API.
err-duo-enrolled = Ce compte a déjà Duo : un seul compte Duo couvre tous ses appareils.
err-duo-needs-email = Duo connaît ce compte par son adresse e-mail : ajoutez-en d’abord une au compte.
err-duo-passcode-malformed = Un code d’accès Duo compte 6 à 8 chiffres ; n’envoyez aucun code pour confirmer par notification push.
err-factor-not-duo = Ce facteur n’est pas un facteur Duo.
err-duo-web-sdk-missing = L’application Duo Web SDK (identifiant client, secret client, nom d’hôte de l’API) n’est pas configurée.
err-duo-auth-api-missing = Les notifications push et codes d’accès Duo nécessitent l’application Duo Auth API (clé d’intégration, clé secrète, nom d’hôte de l’API).
err-duo-auth-api-confirm-missing = Confirmer Duo par l’API nécessite l’application Duo Auth API (clé d’intégration, clé secrète, nom d’hôte de l’API) ; sinon, envoyez l’utilisateur vers l’auth_url du facteur.
err-duo-push-auth-api-missing = Les notifications push Duo nécessitent l’application Duo Auth API (clé d’intégration, clé secrète, nom d’hôte de l’API).
err-duo-auth-api-not-set = l’application Duo Auth API n’est pas configurée (methods.duo.ikey, .skey, .api_host)

## RADIUS
err-radius-wrong-password = Nom d’utilisateur ou mot de passe incorrect.
err-radius-expired = Cette connexion a pris trop de temps ou a déjà reçu une réponse. Veuillez recommencer.
err-radius-not-enrolled = Aucun second facteur n’est configuré pour ce compte.
err-radius-code-not-sent = Le code n’a pas pu être envoyé. Veuillez réessayer plus tard.
radius-challenge-totp = Saisissez le code de votre application d’authentification (ou un code de secours).
radius-challenge-hotp = Appuyez sur le bouton de votre jeton et saisissez son code (ou un code de secours).
radius-challenge-yubikey = Touchez votre YubiKey (ou saisissez un code de secours).
radius-challenge-duo = Saisissez un code d’accès de Duo Mobile, ou laissez vide pour recevoir une notification push Duo.
radius-challenge-sent = Saisissez le code que nous avons envoyé à { $destination }.
radius-challenge-backup = Saisissez un code de secours.
err-address-invalid = { $address } n’est ni une adresse IP ni un réseau tel que 10.0.0.0/24.
err-radius-client-every-address = Un client RADIUS est une adresse ou un réseau, pas toutes les adresses.
err-radius-client-no-ma-network = Un client autorisé à omettre le Message-Authenticator doit être une seule adresse, pas un réseau.
err-radius-client-address-taken = Le client RADIUS { $name } a déjà l’adresse { $network }.
err-radius-client-exists = Un client RADIUS nommé { $name } existe déjà.
err-radius-client-unknown = Aucun client RADIUS nommé { $name }.

## Administration
err-manage-admins-owner-only = Les administrateurs gèrent les clients ; seul un propriétaire gère les administrateurs et les propriétaires.
err-owner-settings-only = Seul le propriétaire modifie ces paramètres.
err-master-key-mismatch = La clé maîtresse ne correspond pas à cette base de données : utilisez le fichier master.key avec lequel la base a été configurée (copiez-le depuis un autre nœud).
err-token-name-invalid = Un nom de jeton compte de 1 à 64 lettres, chiffres, points, tirets ou tirets bas.
err-scope-invalid = une portée de jeton est admin, validate ou metrics
err-token-exists = Un jeton portant ce nom existe déjà.
err-token-not-found = Aucun jeton ne porte ce nom.

## Paramètres (pourquoi une valeur est refusée)
err-setting-unknown = paramètre inconnu { $key }
err-setting-invalid = valeur non valide pour { $key } : { $reason }
err-setting-expected-bool = valeur attendue : true ou false
err-setting-expected-number = valeur attendue : un nombre entier de { $min } à { $max }
err-setting-expected-choice = valeur attendue : l’une de { $options }
err-setting-text-too-long = texte d’au plus 2048 caractères, sans caractères de contrôle
err-setting-client-id = l’identifiant client est un nombre entier positif
err-setting-base64 = la clé d’API est en base64, telle que le service de validation l’a fournie
err-setting-server-urls = les URL des serveurs de validation commencent par https:// (http:// seulement vers cette machine), séparées par des virgules
err-setting-duo-key = { $count } lettres et chiffres, tels qu’affichés dans le panneau d’administration Duo
err-setting-host-port = un nom d’hôte avec un :port facultatif, comme api-xxxxxxxx.duosecurity.com (sans https://, sans chemin)
err-setting-host-name = un nom d’hôte comme example.com (sans https://, sans port, sans chemin)
err-setting-duo-username = un format contenant {"{"}username{"}"} ou {"{"}email{"}"}, comme {"{"}username{"}"} ou {"{"}email{"}"}

## L’API et la vérification par proxy
err-api-body-too-large = Le corps de la requête dépasse la limite de 2 Mio.
err-api-unreadable = La requête n’a pas pu être lue : { $detail }
err-api-unauthorized = Envoyez un jeton d’API valide sous la forme Authorization: Bearer <token>.
err-api-forbidden = La portée de ce jeton ne permet pas cela.
err-api-no-route = Ce point d’accès de l’API n’existe pas.
err-api-method-not-allowed = Ce point d’accès n’accepte pas cette méthode HTTP ; l’en-tête Allow indique celles qu’il accepte.
err-api-refused = La requête a été refusée.
err-api-body-timeout = Le corps de la requête n’est pas arrivé à temps.
err-code-or-credential = Envoyez soit un code, soit un identifiant, pas les deux.
err-webauthn-credential-missing = Une clé de sécurité répond avec « credential » : ce que navigator.credentials.get() a renvoyé, tel que son toJSON() le donne.
err-webauthn-credential-with-code = Un identifiant va avec "method": "webauthn" et sans code.
err-setting-value-type = { $key } : un paramètre est un booléen, un nombre entier ou une chaîne
err-forward-untrusted-proxy = Seul un proxy de confiance peut demander (TWOFOLD_TRUSTED_PROXIES).
err-forward-bad-target = l’URL de la requête d’origine est illisible
err-forward-headers-missing = Le proxy doit envoyer { $headers }.
err-forward-denied = Vous êtes connecté, mais vous n’avez pas accès à cette ressource.
err-forward-sign-in = Connectez-vous d’abord.

## Envoi des e-mails et SMS
err-email-not-set-up = L’envoi d’e-mails n’est pas configuré sur ce serveur.
err-sms-not-set-up = L’envoi de SMS n’est pas configuré sur ce serveur.
err-outbox-write = Le message n’a pas pu être écrit dans le dossier d’envoi.
err-email-not-sent = L’e-mail n’a pas pu être envoyé : { $problem }.
err-email-tls-setup = une connexion sécurisée au serveur de messagerie n’a pas pu être préparée
err-email-from-invalid = l’adresse d’expéditeur des paramètres e-mail n’est pas valide
err-email-to-invalid = l’adresse du destinataire n’est pas valide
err-email-build = le message n’a pas pu être composé
err-email-server-busy = le serveur de messagerie est occupé, réessayez plus tard
err-email-auth-required = le serveur de messagerie exige un nom d’utilisateur et un mot de passe
err-email-auth-refused = le serveur de messagerie a refusé le nom d’utilisateur ou le mot de passe
err-email-refused = le serveur de messagerie a refusé le message
err-email-no-starttls = le serveur de messagerie ne propose pas STARTTLS
err-email-no-auth = le serveur de messagerie n’accepte pas de nom d’utilisateur ni de mot de passe sur cette connexion
err-email-cannot-take = le serveur de messagerie ne peut pas accepter ce message
err-email-bad-answer = la réponse du serveur de messagerie est incompréhensible
err-email-no-answer = le serveur de messagerie n’a pas répondu
err-email-tls-failed = une connexion sécurisée au serveur de messagerie n’a pas pu être établie (vérifiez le paramètre de sécurité et le certificat du serveur)
err-sms-region-invalid = Le SMS n’a pas pu être envoyé : la région AWS des paramètres SNS n’est pas valide.
err-sms-number-invalid = Le SMS n’a pas pu être envoyé : le numéro de téléphone n’est pas au format international (+ et l’indicatif du pays).
err-sms-url-invalid = Le SMS n’a pas pu être envoyé : l’URL du fournisseur SMS dans les paramètres n’est pas valide.
err-sms-provider-failed = Le fournisseur SMS n’a pas pu prendre en charge le message (HTTP { $status }).
err-sms-provider-refused = Le fournisseur SMS a refusé le message (HTTP { $status }).
err-sms-no-answer = Le SMS n’a pas pu être envoyé : le fournisseur SMS n’a pas répondu.
err-sms-tls-failed = Le SMS n’a pas pu être envoyé : une connexion sécurisée au fournisseur SMS n’a pas pu être établie.
err-sms-unreachable = Le SMS n’a pas pu être envoyé : le fournisseur SMS est injoignable.
err-sms-connection-failed = Le SMS n’a pas pu être envoyé : la connexion au fournisseur SMS a échoué.
