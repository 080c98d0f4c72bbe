"""WeChat's message signature and AES encryption (消息加解密, "安全模式"), on ``cryptography``.

- msg_signature = sha1 of the sorted, concatenated [token, timestamp, nonce, encrypt];
- AES-256-CBC, key = base64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 padded to 32;
- plaintext = 16 random bytes + 4-byte network-order length + message + appid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
MAX_AGE_S = 300.0  # a message older than this is refused (a replayed capture of the wire)


class Refused(Exception):
    """A message that must not be processed; ``reason`` is logged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class WeChatCrypto:
    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        self.token = token
        self.key = base64.b64decode(encoding_aes_key + "=")
        self.appid = appid

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        body = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message
        body += self.appid.encode()
        pad = BLOCK - len(body) % BLOCK
        body += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> bytes:
        try:
            data = base64.b64decode(encrypted, validate=True)
            decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
            plain = decryptor.update(data) + decryptor.finalize()
        except ValueError as exc:
            raise Refused(f"密文无法解密：{exc}") from exc
        pad = plain[-1] if plain else 0
        if not 1 <= pad <= BLOCK:
            raise Refused("密文填充错误")
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        message, appid = plain[20 : 20 + length], plain[20 + length :]
        if appid.decode(errors="replace") != self.appid:
            raise Refused("消息的 appid 不是本店的")
        return message

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(
        self,
        msg_signature: str | None,
        timestamp: str | None,
        nonce: str | None,
        encrypted: str,
        now: float,
    ) -> None:
        """Refused unless signed by our token, and recent."""
        if not msg_signature or not timestamp or not nonce:
            raise Refused("缺少签名参数（msg_signature、timestamp、nonce）")
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(msg_signature, expected):
            raise Refused("签名不符")
        try:
            age = now - float(timestamp)
        except ValueError:
            raise Refused(f"timestamp 不是数字：{timestamp[:20]!r}") from None
        if abs(age) > MAX_AGE_S:
            raise Refused(f"消息过期（时间戳相差 {age:.0f} 秒）")
