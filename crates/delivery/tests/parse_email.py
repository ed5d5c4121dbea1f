"""Parses an RFC 5322 message on stdin with Python's email package (an independent parser) for
tests/delivery.rs and prints it as JSON: {"headers": {name: value}, "content_type", "parts":
[{"content_type", "content"}], "defects": [...]}.
"""

import email
import email.policy
import json
import sys

message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.strict)
defects = [str(d) for d in message.defects]
parts = []
for part in message.walk():
    defects += [str(d) for d in part.defects]
    if part.is_multipart():
        continue
    # Bodies travel with CRLF line ends (RFC 5322); compare them with LF.
    content = part.get_content().replace("\r\n", "\n")
    parts.append({"content_type": part.get_content_type(), "content": content})
print(
    json.dumps(
        {
            "headers": {name: str(value) for name, value in message.items()},
            "content_type": message.get_content_type(),
            "parts": parts,
            "defects": defects,
        }
    )
)
