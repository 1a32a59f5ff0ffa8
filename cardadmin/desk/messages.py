"""What a korthandläggare reads about the reader and the verification: one home for the Swedish texts,
used by the pages, the API, the CLI and the desk agent alike."""

from __future__ import annotations

from hardware.errors import (
    ApduError,
    CardRejected,
    CardRemoved,
    CardTimeout,
    HardwareError,
    InvalidPin,
    MalformedResponse,
    NoCard,
    NoReader,
    PinBlocked,
    ReaderUnavailable,
)

CHECK_LABELS = {
    "card_application": "Kort med PIV-applikation",
    "authentication_certificate_present": "Legitimeringscertifikat finns",
    "signature_certificate_present": "Underskriftscertifikat finns",
    "hsa_id_matches": "HSA-id stämmer",
    "card_number_matches": "Kortnummer stämmer",
    "path_to_trusted_root": "Kedja till betrodd utfärdare",
    "within_validity": "Giltigt nu",
    "not_revoked": "Inte spärrat (CRL)",
    "key_usage": "Nyckelanvändning",
    "certificate_policy": "Certifikatpolicy",
    "proof_of_possession": "Kortet har den privata nyckeln (PIN)",
}


def check_label(name: str) -> str:
    return CHECK_LABELS.get(name, name)


def outcome_label(passed: bool | None) -> str:
    return {True: "Godkänd", False: "Underkänd", None: "Ej utförd"}[passed]


def swedish_message(exc: HardwareError) -> str:
    """The message a korthandläggare sees for a hardware error."""
    if isinstance(exc, ReaderUnavailable):
        return "Kortläsartjänsten (pcscd) körs inte."
    if isinstance(exc, NoReader):
        return f"Kortläsaren {exc.reader!r} hittades inte." if exc.reader else "Ingen kortläsare är ansluten."
    if isinstance(exc, NoCard):
        return "Inget kort i läsaren."
    if isinstance(exc, CardRemoved):
        return "Kortet togs ur läsaren."
    if isinstance(exc, CardTimeout):
        return "Kortet svarade inte i tid."
    if isinstance(exc, InvalidPin):
        if exc.attempts_left is None:
            return "Fel PIN-kod."
        return f"Fel PIN-kod, {exc.attempts_left} försök kvar."
    if isinstance(exc, PinBlocked):
        return "PIN-koden är spärrad. Kortet måste låsas upp med PUK-koden."
    if isinstance(exc, CardRejected):
        return f"Kortet kan inte användas ({exc.reason})."
    if isinstance(exc, ApduError | MalformedResponse):
        return "Kortet svarade felaktigt. Ta ur kortet och försök igen."
    return "Fel i kortläsaren."


def stored_error_message(name: str, attempts_left: int | None = None) -> str:
    """The message for a hardware error stored by its class name (CardVerification.error)."""
    if name == "InvalidPin":
        return swedish_message(InvalidPin(attempts_left))
    samples: dict[str, HardwareError] = {
        "ReaderUnavailable": ReaderUnavailable(), "NoReader": NoReader(), "NoCard": NoCard(),
        "CardRemoved": CardRemoved(), "CardTimeout": CardTimeout(), "PinBlocked": PinBlocked(),
        "ApduError": ApduError(0x6F00), "MalformedResponse": MalformedResponse(""),
    }
    if name == "CardRejected":
        return "Kortet kan inte användas."
    return swedish_message(samples.get(name, HardwareError()))
