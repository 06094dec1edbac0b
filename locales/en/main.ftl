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

## Shared by the journey's cards

card-fallback = { $title } (open this chat in the Teams app to continue)
deadline-sentence = Passkeys become required for your account on { $date }.
date-time = { $weekday } { $day } { $month } { $year }, { $time }
weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

action-start = Let's start
action-continue = Continue now
action-devices = Show my devices
action-recheck = Check again
action-test = Test my sign-in
action-exclude = Ask for an exclusion
action-snooze = Remind me later
action-help = Help
action-helpdesk = Talk to the helpdesk
action-registered = I've done it
action-enforce = Yes, switch me over

link-security-info = Security info
link-authenticator-app-store = Get Authenticator
link-authenticator-google-play = Get Authenticator
link-windows-hello = Windows Hello settings

os-ios = iPhone or iPad
os-android = Android
os-windows = Windows
os-macos = Mac
os-linux = Linux
os-other = Other device

option-authenticatorPasskey = Passkey in Microsoft Authenticator
option-windowsHelloForBusiness = Windows Hello for Business
option-platformPasskey = Passkey built into this computer
option-syncedPasskey = Passkey in your device's password manager
option-securityKey = Security key (USB or NFC)
option-other = Another kind of passkey

## Steps to add a passkey, per option and device (operating system, then "phone" or
## "computer", then any device).

steps-authenticatorPasskey-ios =
    1. Install or update **Microsoft Authenticator** from the App Store (it needs iOS 17 or later).
    2. In iPhone **Settings › General › AutoFill & Passwords**, turn on **Authenticator**.
    3. Open Authenticator, tap your work account (add it with **+ › Work or school account** if it is missing) and choose **Create passkey**.
    4. Confirm with Face ID, Touch ID or your iPhone passcode.
steps-authenticatorPasskey-android =
    1. Install or update **Microsoft Authenticator** from Google Play (it needs Android 14 or later).
    2. In Android **Settings › Passwords, passkeys & accounts** (the name varies by make), choose **Authenticator** as a passkey provider.
    3. Open Authenticator, tap your work account (add it with **+ › Work or school account** if it is missing) and choose **Create passkey**.
    4. Confirm with your fingerprint, face or screen lock.
steps-authenticatorPasskey-computer =
    1. Keep your phone at hand with **Microsoft Authenticator** installed and Bluetooth on, on the phone and on this computer.
    2. On this computer, open **Security info** and choose **+ Add sign-in method › Passkey in Microsoft Authenticator**.
    3. When asked where to save it, choose **iPhone, iPad or Android device** and scan the QR code with your phone's camera.
    4. Save the passkey in **Authenticator** on the phone and confirm with its screen lock.
    5. From then on, sign in on this computer by choosing **Face, fingerprint, PIN or security key** and scanning the QR code with your phone.
steps-authenticatorPasskey =
    1. Open **Security info** and choose **+ Add sign-in method › Passkey in Microsoft Authenticator**.
    2. Follow the prompts and save the passkey in **Authenticator** on your phone.
steps-windowsHelloForBusiness =
    1. Open **Windows Hello settings** or **Settings › Accounts › Sign-in options**.
    2. Under **PIN (Windows Hello)**, choose **Set up** (or **I forgot my PIN** to reset it) and sign in with your work account.
    3. Choose a PIN you will remember; add your face or fingerprint if the computer offers it.
    4. Lock the computer (Windows key + L) and unlock it with the new PIN to make sure it works.
steps-platformPasskey-windows =
    1. Open **Security info** and choose **+ Add sign-in method › Passkey**.
    2. When Windows asks where to save the passkey, choose **This Windows device** and confirm with your Windows Hello PIN, face or fingerprint.
steps-platformPasskey-macos =
    1. Make sure **Company Portal** is installed and registration is complete; a notification **Registration required** may appear at the top right.
    2. Click the notification, sign in with your work account and confirm with Touch ID or your Mac password.
    3. The Mac now signs you in with a key kept in its Secure Enclave.
steps-platformPasskey =
    1. Open **Security info** and choose **+ Add sign-in method › Passkey**.
    2. Save the passkey on this device and confirm with its screen lock.
steps-syncedPasskey-ios =
    1. Make sure **iCloud Keychain** is on (**Settings › your name › iCloud › Passwords and Keychain**).
    2. Open **Security info** in Safari and choose **+ Add sign-in method › Passkey**.
    3. Save the passkey to **iCloud Keychain** and confirm with Face ID or Touch ID.
steps-syncedPasskey-android =
    1. Make sure you are signed in to **Google Password Manager** on the phone.
    2. Open **Security info** in Chrome and choose **+ Add sign-in method › Passkey**.
    3. Save the passkey to **Google Password Manager** and confirm with your screen lock.
steps-syncedPasskey-macos =
    1. Make sure **iCloud Keychain** is on (**System Settings › your name › iCloud › Passwords and Keychain**).
    2. Open **Security info** in Safari or Chrome and choose **+ Add sign-in method › Passkey**.
    3. Save the passkey to **iCloud Keychain** and confirm with Touch ID or your Mac password.
steps-syncedPasskey =
    1. Open **Security info** in your browser and choose **+ Add sign-in method › Passkey**.
    2. Save the passkey to your password manager and confirm with the device's screen lock.
steps-securityKey =
    1. Get a security key (USB or NFC) from the helpdesk.
    2. Open **Security info** and choose **+ Add sign-in method › Security key**.
    3. Choose **USB device** or **NFC device**, insert or tap the key, set a PIN for it and touch the key when it blinks.
steps-other =
    1. Open **Security info** and choose **+ Add sign-in method**.
    2. Add a passkey and follow the prompts.

## Devices

devices-title = Your devices
devices-intro-not-yet = Here is every device you signed in from in the last 30 days and what it needs. Start with the first one that needs a passkey.
devices-intro-safe = Every device you use is ready. Test a passkey sign-in, then I switch your account over.
devices-intro-exclusion = At least one of your devices cannot use a passkey yet. See below what you can do.
devices-none = I found no device you signed in from in the last 30 days. Sign in to Microsoft 365 on your computer and phone, then tap "Check again".
devices-recommended = Recommended: { $option }
devices-register = Set it up now
devices-redo = Set it up again
devices-next = Set up { $device }
devices-more-ready = { $count ->
    [one] One more device is ready.
   *[other] { $count } more devices are ready.
}
devices-steps-next = Tap "Set it up now": the next card shows the steps and the right links.

status-ready = Ready
status-needsTest = Test needed
status-needsPasskey = Needs a passkey
status-incompatible = Not compatible
status-unknown = Unknown
todo-ready = Nothing to do: this device signs in with a passkey already.
todo-needsTest = Sign in once with your passkey from this device: tap "Test my sign-in".
todo-needsPasskey = Add a passkey with one of these options; the first fits this device best.
todo-incompatible = What you can do:
todo-unknown = Tell me more so I can help:

hint-whfbPinPossiblyForgotten = Windows Hello is set up, but its PIN has not been used for a long time. If you no longer know it, set Windows Hello up again.
hint-passkeyPossiblyDeleted = A passkey is registered but has not been used for a long time; it may have been deleted from the phone. If it is gone, set it up again.
hint-passkeyNeverUsed = A passkey is registered but has never been used to sign in.
hint-notTriedSinceRegistration = You have not signed in with your passkey since you set it up.
hint-notUsedFromThisDevice = You have a passkey, but have not used it to sign in from this device yet.
hint-other = A passkey covers this device, but it has not been used from it yet.

reason-iosTooOld = This iPhone or iPad runs an iOS version older than 17, which cannot keep a passkey in Microsoft Authenticator.
reason-androidTooOld = This phone runs an Android version older than 14, which cannot keep a passkey in Microsoft Authenticator.
reason-androidModelNeedsUpdate = On this phone model, a passkey in Microsoft Authenticator needs Android 15.
reason-desktopAppsNeedNewerWindows = This Windows version can use a passkey from your phone only in Edge or Chrome, not in desktop apps such as Teams and Outlook.
reason-browserCannotUsePhonePasskey = The browser on this device cannot use a passkey from your phone.
reason-policyAllowsNoOption = None of the passkey kinds your organisation allows works on this device.
reason-unsupportedOs = This operating system cannot use a passkey for your work account.
reason-other = This device cannot use any passkey your organisation allows.

remedy-upgradeOs = Update the device to the newest operating system version, then tap "Check again".
remedy-useBrowser = Use Microsoft 365 in Edge or Chrome on this device instead of the desktop apps.
remedy-allowSyncedPasskeys = Ask the helpdesk whether passkeys in the device's own password manager can be allowed for you.
remedy-securityKey = Use a security key (USB or NFC); the helpdesk can give you one.
remedy-exclusion = Ask for a temporary exclusion for this device with the button below.
remedy-other = Ask the helpdesk what to do with this device.

unknown-explain = I could not tell which system or version this device runs.
ask-osVersion = Which operating system version does it run? Update it if you can, then tap "Check again".
ask-deviceModel = Which model is it? Tell the helpdesk.
ask-browser = Which browser do you use on it? Edge or Chrome work best.
ask-other = Tell the helpdesk what kind of device it is.

## Register

register-title = Set up { $option } on { $device }
register-intro = Follow these steps; the buttons below open the right place.
register-after = When you have finished, tap "I've done it". Microsoft takes a moment to show a new passkey; I keep checking until it appears.

## Waiting for Graph

waiting-title = Looking for your new passkey…
waiting-body = Thanks! I am checking that Microsoft shows your new passkey. This card updates as soon as it does.
waiting-body-again = Microsoft does not show your new passkey yet; this can take a few minutes. I keep looking (check { $attempt }) and update this card.
waiting-note = Nothing has changed for your sign-in so far.

## Test sign-in

confirming-title = Your passkey works: checking your devices…
confirming-body = I am waiting for Microsoft's sign-in log to show your test, so that the device you tested on counts. This card updates as soon as it does.
confirming-body-again = Microsoft's sign-in log does not show your test yet; this can take a few minutes. I keep looking (check { $attempt }) and update this card.
test-title = Test your passkey sign-in
test-body = The button opens a Microsoft sign-in page that accepts only a passkey. Sign in with the passkey you set up. Your account does not change: this only proves that the passkey works.
test-where = Do this test on **{ $device }**.
test-cross-device = On a computer without its own passkey, choose **iPhone, iPad or Android device** and scan the QR code with your phone.
test-note = The link works once and for 10 minutes. When you are done, come back here: this card updates on its own.
test-open = Start the test
test-retry = Try again
test-failed-title = The test sign-in did not work
test-failed-strengthNotMet = The sign-in did not use a passkey. On the sign-in page, choose **Face, fingerprint, PIN or security key**, not a code or an app notification.
test-failed-expired = The test link expired; it works for 10 minutes.
test-failed-alreadyUsed = That test link was already used; each works once.
test-failed-wrongUser = You signed in with a different account than the one chatting with me. Sign in with your own work account.
test-failed-cancelled = The sign-in was cancelled.
test-failed-authContextMissing = The sign-in did not meet the passkey requirement of the test.
test-failed-other = The test sign-in did not go through.
test-failed-next = Try again. If the passkey is no longer on your phone or computer, set it up again.
test-unavailable = The test sign-in cannot start just now. Try again in a moment; if it keeps failing, ask the helpdesk.
test-failed-redo = Set it up again on { $device }

## Enforcement

confirm-title = Ready to switch your account to passkeys
confirm-body = Your devices are ready for a passkey sign-in.
confirm-body-tested = Your passkey sign-in worked ({ $date }).
confirm-changes =
    - Signing in to your work account will need your passkey (or Windows Hello).
    - App notifications, text-message codes and phone calls will no longer be enough.
    - A stolen password alone is useless to an attacker.
confirm-when = The change reaches all apps within the hour, as they renew their sign-in. You stay signed in until then.
paused-title = The switch is paused for now
paused-body = Your passkey works, so nothing else is needed from you. Your IT team has paused switching accounts over; tap "Show my devices" or write "status" later to continue.
protected-title = You're protected
protected-body = Since { $date }, your account requires a passkey.
protected-changes =
    - Within the hour, every app asks for your passkey (or Windows Hello) the next time it renews your sign-in.
    - App notifications, text-message codes and phone calls no longer work as a second step.
    - Keep your phone's screen lock and your Windows Hello PIN: they unlock your passkey.
protected-lost = New or lost phone? Write "I have a new phone" and the helpdesk will help you set up a new passkey.

## Snooze

snooze-title = When should I remind you?
snooze-body = Your devices and your progress stay as they are; I will pick up where you left off.
snooze-days = { $days ->
    [one] Tomorrow
   *[other] In { $days } days
}
snooze-none = You have postponed as often as possible. Let's finish now: it takes about three minutes.
snoozed-title = See you later
snoozed-body = I will remind you on { $date }. To continue earlier, tap the button or write "start".

## Exclusion

exclusion-title = Ask for a temporary exclusion
exclusion-body = These devices cannot use a passkey your organisation allows. Until they can, you can keep signing in on them as today, for a limited time:
exclusion-note = The helpdesk sees your request. When the exclusion ends, I check your devices again.
exclusion-reason-label = Why do you need these devices without a passkey?
exclusion-reason-placeholder = For example: I use my old phone for on-call duty until it is replaced in March.
exclusion-reason-error = Please give a reason (up to 500 characters).
exclusion-send = Send request
excluded-title = Exclusion granted
excluded-body = Until { $date }, these devices are excluded from the passkey requirement:
excluded-note = Before then, update or replace them if you can; I will check again when the exclusion ends.

## Help and helpdesk

help-title = How can I help?
help-body = I help you move your work account to passkeys: I check your devices, show what each needs, let you test a passkey sign-in and then switch your account over. You can also write "start", "status", "later", "I have a new phone" or "helpdesk".
help-faq-title = Questions people ask
help-q-passkey = What is a passkey?
help-a-passkey = A sign-in key kept on your phone, computer or a security key, unlocked like the device itself: face, fingerprint or PIN.
help-q-password = Is a passkey a password?
help-a-password = No. Nothing is typed or sent that someone could copy, and a fake sign-in page gets nothing it can use.
help-q-pin = Why is a PIN safer than a password?
help-a-pin = The PIN never leaves your device. Someone who learns it still needs the device in their hand.
help-q-lost = What if I lose my phone?
help-a-lost = Write "I have a new phone": the helpdesk gives you a temporary pass to set up a new passkey.
help-q-time = How long does it take?
help-a-time = About three minutes when nothing is wrong.
helpdesk-title = The helpdesk will get in touch
helpdesk-asked = I have passed your request to the helpdesk, with what I know about your devices. Someone will contact you in Teams.
helpdesk-registrationNotFound = I still cannot see your new passkey at Microsoft. I have asked the helpdesk to look into it; someone will contact you in Teams.
helpdesk-lookupFailing = I cannot read your sign-in details at the moment. I have asked the helpdesk to look into it.
helpdesk-enforcementFailed = I could not switch your account over; your sign-in has not changed. I have asked the helpdesk to finish it.
helpdesk-newPhone = For a new phone you need a temporary access pass to set up a new passkey. I have asked the helpdesk; someone will contact you in Teams.
helpdesk-note = Until then your sign-in works as before.

## Other screens

checking-title = Looking at your devices…
checking-body = This takes a few seconds; this card updates on its own.
not-target-title = Nothing to do for you
not-target-body = Your account is not part of the passkey rollout, so there is nothing you need to do here.
out-of-date-title = This card is out of date
out-of-date-body = You have moved on since; the current card is below.
lookup-failed-title = I could not look at your devices just now
lookup-failed-body = Microsoft's services did not answer. Please try again in a few minutes.

## The web page after a test sign-in (shown in the browser, not in Teams)
signin-page-title = Passkey sign-in test
signin-passed-title = Your passkey works
signin-passed-body = You signed in with a passkey. Nothing about your account has changed.
signin-back = You can close this page and go back to Teams: the chat shows what comes next.
signin-failed-back = Go back to Teams and try again from the chat.
signin-unknown-title = This link does not work
signin-unknown = Start the test again from the chat in Teams.
signin-unavailable-title = The test is not available right now
signin-unavailable = Try again in a few minutes from the chat in Teams.
