"""Callback authenticity: plain-mode signatures and safe-mode (AES) messages, via wechatpy's crypto.

wechatpy compares signatures with `!=`; we check them first with hmac.compare_digest and
only then let wechatpy decrypt (B4, "Security nit").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from bot.wechat import xmlsafe


class Forged(Exception):
    """Wrong signature, stale timestamp, or a body that does not decrypt for our app: answer 403."""


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted parts joined (utils.WeChatSigner)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check(expected_parts: tuple[str, ...], signature: str) -> None:
    if not signature or not hmac.compare_digest(sha1_signature(*expected_parts), signature.lower()):
        raise Forged("bad signature")


def check_fresh(timestamp: str, now: float, max_age: float) -> None:
    if not timestamp.isdigit() or abs(now - int(timestamp)) > max_age:
        raise Forged("stale or missing timestamp")


@dataclass
class SafeMode:
    """AES crypto for one app: the official account (app id) or WeCom (corp id)."""

    token: str
    encoding_aes_key: str
    receiver_id: str
    enterprise: bool = False

    def _crypto(self) -> WeChatCrypto | WeComCrypto:
        cls = WeComCrypto if self.enterprise else WeChatCrypto
        return cls(self.token, self.encoding_aes_key, self.receiver_id)

    def decrypt(self, outer: dict[str, object], msg_signature: str, timestamp: str, nonce: str) -> str:
        """The inner XML of an <Encrypt> envelope: Forged when it is not ours, BadXml when it is unsafe inside."""
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise Forged("no Encrypt element")
        check((self.token, timestamp, nonce, encrypt), msg_signature)
        try:
            inner = self._crypto().decrypt_message({"Encrypt": encrypt}, msg_signature.lower(), timestamp, nonce)
        except Exception as exc:  # wechatpy raises bare Exception subclasses, ValueError, struct.error ...
            raise Forged(f"decrypt failed: {type(exc).__name__}") from exc
        return xmlsafe.checked(inner)  # genuine but unsafe or malformed inside: BadXml (400)

    def decrypt_echo(self, echostr: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """WeCom's URL check: the decrypted echostr."""
        check((self.token, timestamp, nonce, echostr), msg_signature)
        try:
            return self._crypto().check_signature(msg_signature.lower(), timestamp, nonce, echostr)
        except Exception as exc:
            raise Forged(f"echostr decrypt failed: {type(exc).__name__}") from exc

    def encrypt(self, reply_xml: str, timestamp: str) -> str:
        return self._crypto().encrypt_message(reply_xml, secrets.token_hex(8), timestamp)
