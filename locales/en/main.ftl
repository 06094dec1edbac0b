# Texts of passkey-pilot's cards and messages (English, the fallback for every language).

welcome-title = Hi { $name }, let's move you to passkeys
welcome-title-unnamed = Hi, let's move you to passkeys
welcome-body = Your organisation is replacing passwords and app or text-message codes with passkeys: a sign-in that cannot be phished, unlocked with your face, fingerprint or device PIN.
welcome-steps = I will look at the devices you use, tell you exactly what each one needs, let you test a passkey sign-in, and only then switch your account over. It takes about three minutes.
welcome-privacy = I only look at your own sign-in methods and the devices you signed in from in the last 30 days.
welcome-fallback = Welcome to Passkey Pilot. Open this chat in Teams to see the full message.
