"""What the user is told for each BankID hint code and error code, in their language (BankID's
recommended user messages, RFA1-RFA23), and for the other providers' reason codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

_START_APP = _l("Start your BankID app.")  # RFA1
_SCAN_QR = _l("Start the BankID app and scan the QR code.")  # RFA1 with QR
_SEARCHING = _l("Searching for BankID, it may take a little while…")  # RFA14/RFA15
_SECURITY_CODE = _l("Enter your security code in the BankID app and select Identify.")  # RFA9
_IN_PROGRESS = _l("Identification in progress.")  # RFA21
_TRAVEL_DOCUMENT = _l("Process your machine-readable travel document using the BankID app.")
_UNKNOWN = _l("Unknown error. Please try again.")  # RFA22

PENDING = {
    "outstandingTransaction": _START_APP,
    "noClient": _START_APP,
    "started": _SEARCHING,
    "userMrtd": _TRAVEL_DOCUMENT,
    "userCallConfirm": _IN_PROGRESS,
    "userSign": _SECURITY_CODE,
}

FAILED = {
    # RFA8
    "expiredTransaction": _l("The BankID app is not responding. Please check that it is "
                             "started and that you have internet access. If you don't have a "
                             "valid BankID you can get one from your bank. Try again."),
    # RFA16
    "certificateErr": _l("The BankID you are trying to use is blocked or too old. Please use "
                         "another BankID or get a new one from your bank."),
    "userCancel": _l("Action cancelled."),  # RFA6
    "cancelled": _l("Action cancelled. Please try again."),  # RFA3
    # RFA17B
    "startFailed": _l("Failed to scan the QR code. Start the BankID app and scan the QR code. "
                      "Check that the BankID app is up to date. If you don't have the BankID "
                      "app, you need to install it and get a BankID from your bank."),
    # RFA4
    "alreadyInProgress": _l("An identification for this personal number is already started. "
                            "Please try again."),
    "userDeclinedCall": _l("Action cancelled."),
    "notSupportedByUserApp": _l("Update your BankID app and try again."),
    "internalError": _l("Internal error. Please try again."),  # RFA5
    "maintenance": _l("Internal error. Please try again."),
    "unavailable": _l("The identification service cannot be reached. Please try again later."),
    "invalid_identity": _l("The identification did not give a valid identity number."),
    "oidc_error": _l("The identification was not completed. Please try again."),
}


def pending_message(hint_code: str | None, *, qr: bool = False) -> str:
    """The text for a pending order; with the QR code on screen, say to scan it."""
    if hint_code in (None, "outstandingTransaction", "noClient") and qr:
        return str(_SCAN_QR)
    return str(PENDING.get(hint_code or "", _IN_PROGRESS))


def failed_message(reason: str | None) -> str:
    """The text for a failed identification (an unknown code: RFA22)."""
    return str(FAILED.get(reason or "", _UNKNOWN))
