# Texts of passkey-pilot's cards and messages (English, the fallback for every language).

welcome-title = Hi { $name }, let's move you to passkeys
welcome-title-unnamed = Hi, let's move you to passkeys
welcome-body = Your organisation is replacing passwords and app or text-message codes with passkeys: a sign-in that cannot be phished, unlocked with your face, fingerprint or device PIN.
welcome-steps = I will look at the devices you use, tell you exactly what each one needs, let you test a passkey sign-in, and only then switch your account over. It takes about three minutes.
welcome-privacy = I only look at your own sign-in methods and the devices you signed in from in the last 30 days.
welcome-fallback = Welcome to Passkey Pilot. Open this chat in Teams to see the full message.
welcome-about-title = What is a passkey?
welcome-about-what = A passkey is a sign-in key kept on your phone, your computer or a security key. You unlock it the way you unlock the device: face, fingerprint or device PIN.
welcome-about-password = It is not a password: nothing is typed or sent that someone could copy. A fake sign-in page gets nothing it can use, because a passkey only works on the real Microsoft sign-in page.
welcome-about-pin = The PIN never leaves your device. Someone who learns it still needs the device in their hand, which is why it is safer than a password that works from anywhere.
welcome-about-lost = Lost or new phone? Tell me "I have a new phone" or ask the helpdesk; you will get a temporary pass to set up a new passkey.
