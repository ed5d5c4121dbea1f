#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::encode::response;
use super::*;
use proptest::prelude::*;

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.split_whitespace().collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn auth16(bytes: &[u8]) -> [u8; 16] {
    bytes.try_into().unwrap()
}

// --- RFC 2865 §7.1: "User Telnet to Specified Host" ---------------------------------------------

const RFC_SECRET: &[u8] = b"xyzzy5461";

/// The Access-Request of RFC 2865 §7.1: User-Name "nemo", User-Password "arctangent",
/// NAS-IP-Address 192.168.1.16, NAS-Port 3.
const RFC_REQUEST: &str = "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
    98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d
    93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
    01 10 05 06 00 00 00 03";

/// Its Access-Accept: Service-Type Login-User, Login-Service Telnet, Login-IP-Host 192.168.1.3.
const RFC_ACCEPT: &str = "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
    9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00
    0e 06 c0 a8 01 03";

#[test]
fn rfc2865_example_request_parses_and_its_password_decodes() {
    let bytes = hex(RFC_REQUEST);
    let request = Packet::parse(&bytes).unwrap();
    assert_eq!(request.code, Code::AccessRequest);
    assert_eq!(request.identifier, 0);
    assert_eq!(request.authenticator, auth16(&bytes[4..20]));
    assert_eq!(request.as_bytes(), &bytes[..]);
    let types: Vec<u8> = request.attributes().map(|(ty, _)| ty).collect();
    assert_eq!(
        types,
        [
            attr::USER_NAME,
            attr::USER_PASSWORD,
            attr::NAS_IP_ADDRESS,
            attr::NAS_PORT
        ]
    );
    assert_eq!(request.attribute(attr::USER_NAME), Some(&b"nemo"[..]));
    assert_eq!(
        request.attribute(attr::NAS_IP_ADDRESS),
        Some(&[192, 168, 1, 16][..])
    );
    assert_eq!(request.attribute(attr::NAS_PORT), Some(&[0, 0, 0, 3][..]));
    assert_eq!(request.attribute(attr::STATE), None);
    assert!(!request.has_message_authenticator());
    assert_eq!(request.message_authenticator_valid(RFC_SECRET), None);

    let hidden = request.attribute(attr::USER_PASSWORD).unwrap();
    let password = decode_user_password(hidden, RFC_SECRET, &request.authenticator).unwrap();
    assert_eq!(password.as_slice(), b"arctangent");
    // Hiding it again gives the RFC's octets.
    assert_eq!(
        encode_user_password(b"arctangent", RFC_SECRET, &request.authenticator).unwrap(),
        hidden
    );
    // The whole request is what encode_request builds from the same fields.
    let rebuilt = encode_request(
        0,
        &request.authenticator,
        &[
            (attr::USER_NAME, b"nemo"),
            (attr::USER_PASSWORD, b"arctangent"),
            (attr::NAS_IP_ADDRESS, &[192, 168, 1, 16]),
            (attr::NAS_PORT, &[0, 0, 0, 3]),
        ],
        RFC_SECRET,
        false,
    )
    .unwrap();
    assert_eq!(rebuilt, bytes);
}

#[test]
fn rfc2865_example_accept_is_reproduced() {
    let request_bytes = hex(RFC_REQUEST);
    let request = Packet::parse(&request_bytes).unwrap();
    let attributes: [(u8, &[u8]); 3] = [
        (6, &[0, 0, 0, 1]),          // Service-Type: Login-User
        (15, &[0, 0, 0, 0]),         // Login-Service: Telnet
        (14, &[192, 168, 1, 3][..]), // Login-IP-Host
    ];
    let accept = response(Code::AccessAccept, &request, &attributes, RFC_SECRET, false).unwrap();
    assert_eq!(accept, hex(RFC_ACCEPT));

    let parsed = Packet::parse(&accept).unwrap();
    assert_eq!(parsed.code, Code::AccessAccept);
    assert!(parsed.response_valid(&request.authenticator, RFC_SECRET));
    assert!(!parsed.response_valid(&request.authenticator, b"xyzzy5462"));
    let mut other_request = request.authenticator;
    other_request[0] ^= 1;
    assert!(!parsed.response_valid(&other_request, RFC_SECRET));
}

// --- Message-Authenticator, cross-checked with pyrad ---------------------------------------------

const PY_SECRET: &[u8] = b"twofold-radius-secret";
const PY_AUTHENTICATOR: [u8; 16] = [
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];

/// Made with pyrad 2.6 (PyPI) in a throwaway virtualenv:
///
/// ```python
/// req = packet.AuthPacket(code=1, id=0x2a, secret=b"twofold-radius-secret",
///                         authenticator=bytes(range(0x10, 0x20)))
/// req.add_message_authenticator()
/// req[1] = [b"alice"]; req[2] = [req.PwCrypt(b"123456")]; req[32] = [b"vpn-gw"]
/// req[33] = [b"proxy-one", b"proxy-two"]
/// req.RequestPacket().hex()
/// ```
const PY_REQUEST: &str =
    "012a005d101112131415161718191a1b1c1d1e1f501243dc96b3f59cd34367cd6f5c0cc68acd
    0107616c696365021203c583e42f34bc2c24931bdaeeb93a5e200876706e2d6777210b70726f78792d6f6e65
    210b70726f78792d74776f";

/// pyrad's answer to it, Message-Authenticator first:
///
/// ```python
/// rep = packet.Packet(code=2, id=0x2a, secret=b"twofold-radius-secret",
///                     authenticator=bytes(range(0x10, 0x20)))
/// rep.add_message_authenticator()
/// rep[18] = [b"Welcome, alice"]; rep[33] = [b"proxy-one", b"proxy-two"]
/// rep.ReplyPacket().hex()   # and req.VerifyReply(...) is True
/// ```
const PY_ACCEPT: &str =
    "022a004c776aa8c256e74a6929634dea40b7cb8950123ab20f4c37e59a6dc44e7e09c6834c6c
    121057656c636f6d652c20616c696365210b70726f78792d6f6e65210b70726f78792d74776f";

fn py_attributes() -> [(u8, &'static [u8]); 5] {
    [
        (attr::USER_NAME, b"alice"),
        (attr::USER_PASSWORD, b"123456"),
        (attr::NAS_IDENTIFIER, b"vpn-gw"),
        (attr::PROXY_STATE, b"proxy-one"),
        (attr::PROXY_STATE, b"proxy-two"),
    ]
}

#[test]
fn message_authenticator_matches_pyrad() {
    let bytes = hex(PY_REQUEST);
    let request = Packet::parse(&bytes).unwrap();
    assert!(request.has_message_authenticator());
    assert_eq!(request.message_authenticator_valid(PY_SECRET), Some(true));
    assert_eq!(
        request.attributes().next().map(|(ty, _)| ty),
        Some(attr::MESSAGE_AUTHENTICATOR)
    );
    let password = decode_user_password(
        request.attribute(attr::USER_PASSWORD).unwrap(),
        PY_SECRET,
        &request.authenticator,
    )
    .unwrap();
    assert_eq!(password.as_slice(), b"123456");

    // Our request from the same fields is the same octets.
    let ours = encode_request(0x2a, &PY_AUTHENTICATOR, &py_attributes(), PY_SECRET, true).unwrap();
    assert_eq!(ours, bytes);

    // pyrad's answer checks, and ours is the same octets.
    let accept = hex(PY_ACCEPT);
    let parsed = Packet::parse(&accept).unwrap();
    assert!(parsed.response_valid(&PY_AUTHENTICATOR, PY_SECRET));
    let ours = encode_response(
        Code::AccessAccept,
        &request,
        &[(attr::REPLY_MESSAGE, b"Welcome, alice")],
        PY_SECRET,
    )
    .unwrap();
    assert_eq!(ours, accept);
}

#[test]
fn wrong_secret_or_changed_octet_fails_the_message_authenticator() {
    let bytes = hex(PY_REQUEST);
    let request = Packet::parse(&bytes).unwrap();
    assert_eq!(
        request.message_authenticator_valid(b"twofold-radius-secreT"),
        Some(false)
    );
    assert_eq!(request.message_authenticator_valid(b""), Some(false));
    // Any one octet changed (header, the Message-Authenticator itself, an attribute value):
    // still parses, no longer valid.
    for at in [0, 1, 4, 19, 22, 37, 40, bytes.len() - 1] {
        let mut tampered = bytes.clone();
        tampered[at] ^= 0x01;
        let packet = Packet::parse(&tampered).unwrap();
        assert_eq!(
            packet.message_authenticator_valid(PY_SECRET),
            Some(false),
            "octet {at}"
        );
    }
}

#[test]
fn tampered_answer_fails_its_checks() {
    let accept = hex(PY_ACCEPT);
    assert!(
        !Packet::parse(&accept)
            .unwrap()
            .response_valid(&PY_AUTHENTICATOR, b"wrong")
    );
    for at in [1, 4, 19, 22, 37, 40, accept.len() - 1] {
        let mut tampered = accept.clone();
        tampered[at] ^= 0x01;
        let packet = Packet::parse(&tampered).unwrap();
        assert!(
            !packet.response_valid(&PY_AUTHENTICATOR, PY_SECRET),
            "octet {at}"
        );
    }
}

/// An answer whose Response Authenticator is right but whose Message-Authenticator is not (what
/// an MD5 collision on the Response Authenticator alone would give) is refused.
#[test]
fn answer_with_a_bad_message_authenticator_is_refused() {
    let bytes = hex(PY_REQUEST);
    let request = Packet::parse(&bytes).unwrap();
    let mut accept = encode_response(Code::AccessAccept, &request, &[], PY_SECRET).unwrap();
    accept[22] ^= 0xff;
    // Re-sign the Response Authenticator over the changed Message-Authenticator.
    use md5::Digest as _;
    let mut md5 = md5::Md5::new();
    md5.update(&accept[..4]);
    md5.update(PY_AUTHENTICATOR);
    md5.update(&accept[20..]);
    md5.update(PY_SECRET);
    accept[4..20].copy_from_slice(&md5.finalize());
    assert!(
        !Packet::parse(&accept)
            .unwrap()
            .response_valid(&PY_AUTHENTICATOR, PY_SECRET)
    );
}

// --- Malformed input ----------------------------------------------------------------------------

/// A valid header with `length` in its Length field, followed by `rest`.
fn datagram(length: u16, rest: &[u8]) -> Vec<u8> {
    let mut out = vec![1, 7];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&[0xaa; 16]);
    out.extend_from_slice(rest);
    out
}

#[test]
fn short_datagrams_are_refused() {
    assert_eq!(Packet::parse(&[]), Err(PacketError::TooShort(0)));
    let header = datagram(20, &[]);
    assert_eq!(Packet::parse(&header[..19]), Err(PacketError::TooShort(19)));
    assert!(Packet::parse(&header).is_ok());
}

#[test]
fn bad_length_fields_are_refused() {
    assert_eq!(
        Packet::parse(&datagram(19, &[0])),
        Err(PacketError::LengthTooSmall(19))
    );
    assert_eq!(
        Packet::parse(&datagram(0, &[])),
        Err(PacketError::LengthTooSmall(0))
    );
    assert_eq!(
        Packet::parse(&datagram(4097, &[0; 4077])),
        Err(PacketError::LengthTooLarge(4097))
    );
    assert_eq!(
        Packet::parse(&datagram(27, &[1, 6, b'a', b'b', b'c', b'd'])),
        Err(PacketError::Truncated {
            length: 27,
            received: 26
        })
    );
    // 4096 itself is fine.
    let mut big = datagram(4096, &[]);
    while big.len() < 4096 {
        let n = (4096 - big.len()).min(255);
        big.push(26);
        big.push(n as u8);
        big.extend(std::iter::repeat_n(0, n - 2));
    }
    let packet = Packet::parse(&big).unwrap();
    assert_eq!(packet.as_bytes().len(), MAX_PACKET);
}

#[test]
fn octets_beyond_length_are_padding() {
    let exact = datagram(26, &[1, 6, b'n', b'e', b'm', b'o']);
    let mut padded = exact.clone();
    // Garbage that would be an overrunning attribute, and a second Message-Authenticator.
    padded.extend_from_slice(&[1, 200, 80, 18, 0, 0]);
    let packet = Packet::parse(&padded).unwrap();
    assert_eq!(packet.as_bytes(), &exact[..]);
    assert_eq!(packet.attributes().count(), 1);
    assert_eq!(packet.attribute(attr::USER_NAME), Some(&b"nemo"[..]));
    assert!(!packet.has_message_authenticator());
}

#[test]
fn bad_attribute_lengths_are_refused() {
    assert_eq!(
        Packet::parse(&datagram(22, &[1, 0])),
        Err(PacketError::AttributeTooShort { ty: 1, length: 0 })
    );
    assert_eq!(
        Packet::parse(&datagram(22, &[1, 1])),
        Err(PacketError::AttributeTooShort { ty: 1, length: 1 })
    );
    // A value running past Length.
    assert_eq!(
        Packet::parse(&datagram(24, &[1, 6, b'a', b'b', b'c', b'd'])),
        Err(PacketError::AttributeOverrun { ty: 1 })
    );
    // An attribute's Length octet past Length.
    assert_eq!(
        Packet::parse(&datagram(27, &[1, 6, b'a', b'b', b'c', b'd', 24])),
        Err(PacketError::AttributeOverrun { ty: 24 })
    );
    // A valid one before a bad one does not save the packet.
    assert_eq!(
        Packet::parse(&datagram(28, &[1, 6, b'a', b'b', b'c', b'd', 24, 3])),
        Err(PacketError::AttributeOverrun { ty: 24 })
    );
    // An empty value (Length 2) is structurally fine.
    let empty = datagram(22, &[24, 2]);
    let packet = Packet::parse(&empty).unwrap();
    assert_eq!(packet.attribute(attr::STATE), Some(&[][..]));
}

#[test]
fn message_authenticator_twice_or_of_wrong_length_is_refused() {
    let one = [80, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut two = one.to_vec();
    two.extend_from_slice(&one);
    assert_eq!(
        Packet::parse(&datagram(56, &two)),
        Err(PacketError::DuplicateMessageAuthenticator)
    );
    let mut short = one[..17].to_vec();
    short[1] = 17;
    assert_eq!(
        Packet::parse(&datagram(37, &short)),
        Err(PacketError::MessageAuthenticatorLength(17))
    );
    let mut long = one.to_vec();
    long[1] = 19;
    long.push(0);
    assert_eq!(
        Packet::parse(&datagram(39, &long)),
        Err(PacketError::MessageAuthenticatorLength(19))
    );
    assert!(Packet::parse(&datagram(38, &one)).is_ok());
}

#[test]
fn hidden_passwords_of_bad_length_are_refused() {
    let auth = [7u8; 16];
    for len in [0, 1, 15, 17, 31, 129, 144] {
        assert_eq!(
            decode_user_password(&vec![0x41; len], b"s", &auth),
            Err(PacketError::HiddenPasswordLength(len)),
            "{len}"
        );
    }
    for len in [16, 32, 128] {
        assert!(decode_user_password(&vec![0x41; len], b"s", &auth).is_ok());
    }
    assert_eq!(
        encode_user_password(&[b'x'; 129], b"s", &auth),
        Err(PacketError::PasswordTooLong(129))
    );
}

#[test]
fn passwords_pad_to_sixteen_and_lose_trailing_nuls() {
    let auth = [9u8; 16];
    assert_eq!(encode_user_password(b"", b"s", &auth).unwrap().len(), 16);
    assert_eq!(
        encode_user_password(&[1; 16], b"s", &auth).unwrap().len(),
        16
    );
    assert_eq!(
        encode_user_password(&[1; 17], b"s", &auth).unwrap().len(),
        32
    );
    assert_eq!(
        encode_user_password(&[1; 128], b"s", &auth).unwrap().len(),
        128
    );
    let hidden = encode_user_password(b"", b"s", &auth).unwrap();
    assert!(
        decode_user_password(&hidden, b"s", &auth)
            .unwrap()
            .is_empty()
    );
    let hidden = encode_user_password(b"pin\0\0", b"s", &auth).unwrap();
    assert_eq!(
        decode_user_password(&hidden, b"s", &auth)
            .unwrap()
            .as_slice(),
        b"pin"
    );
    // The second block chains on the first hidden block: same clear blocks, different octets.
    let hidden = encode_user_password(&[b'a'; 32], b"s", &auth).unwrap();
    assert_ne!(hidden[..16], hidden[16..]);
    // A wrong secret gives other bytes.
    let hidden = encode_user_password(b"123456", b"s", &auth).unwrap();
    assert_ne!(
        decode_user_password(&hidden, b"t", &auth)
            .unwrap()
            .as_slice(),
        b"123456"
    );
}

// --- Encoding -----------------------------------------------------------------------------------

const SECRET: &[u8] = b"a shared secret";
const AUTH: [u8; 16] = [0x5a; 16];

fn sample_request() -> Vec<u8> {
    encode_request(
        200,
        &AUTH,
        &[
            (attr::USER_NAME, b"bob"),
            (attr::PROXY_STATE, b"first"),
            (attr::USER_PASSWORD, b"hunter2 123456"),
            (attr::NAS_IDENTIFIER, b"sshd"),
            (attr::PROXY_STATE, b"second"),
        ],
        SECRET,
        true,
    )
    .unwrap()
}

#[test]
fn request_round_trip() {
    let bytes = sample_request();
    let request = Packet::parse(&bytes).unwrap();
    assert_eq!(request.code, Code::AccessRequest);
    assert_eq!(request.identifier, 200);
    assert_eq!(request.authenticator, AUTH);
    assert_eq!(request.message_authenticator_valid(SECRET), Some(true));
    assert_eq!(
        request.attributes().next().map(|(ty, v)| (ty, v.len())),
        Some((attr::MESSAGE_AUTHENTICATOR, 16))
    );
    assert_eq!(request.count(attr::PROXY_STATE), 2);
    assert_eq!(request.count(attr::MESSAGE_AUTHENTICATOR), 1);
    assert_eq!(request.count(attr::STATE), 0);
    assert_eq!(request.attribute(attr::PROXY_STATE), Some(&b"first"[..]));
    let hidden = request.attribute(attr::USER_PASSWORD).unwrap();
    assert_ne!(hidden, b"hunter2 123456");
    assert_eq!(
        decode_user_password(hidden, SECRET, &AUTH)
            .unwrap()
            .as_slice(),
        b"hunter2 123456"
    );

    // Without a Message-Authenticator.
    let plain = encode_request(1, &AUTH, &[(attr::USER_NAME, b"bob")], SECRET, false).unwrap();
    let plain = Packet::parse(&plain).unwrap();
    assert!(!plain.has_message_authenticator());
    assert_eq!(plain.message_authenticator_valid(SECRET), None);
    assert_eq!(plain.as_bytes().len(), 25);
}

#[test]
fn response_round_trip() {
    let bytes = sample_request();
    let request = Packet::parse(&bytes).unwrap();
    let messages = reply_messages("Enter the code from your authenticator app");
    let mut attributes: Vec<(u8, &[u8])> = vec![(attr::STATE, b"opaque state")];
    attributes.extend(messages.iter().map(|m| (attr::REPLY_MESSAGE, m.as_slice())));
    for code in [
        Code::AccessAccept,
        Code::AccessReject,
        Code::AccessChallenge,
    ] {
        let answer = encode_response(code, &request, &attributes, SECRET).unwrap();
        let parsed = Packet::parse(&answer).unwrap();
        assert_eq!(parsed.code, code);
        assert_eq!(parsed.identifier, 200);
        assert!(parsed.response_valid(&AUTH, SECRET));
        assert!(!parsed.response_valid(&AUTH, b"another secret"));
        // Message-Authenticator first, then ours in order, then the Proxy-States in order.
        let got: Vec<(u8, &[u8])> = parsed.attributes().skip(1).collect();
        assert_eq!(
            got,
            [
                (attr::STATE, &b"opaque state"[..]),
                (
                    attr::REPLY_MESSAGE,
                    &b"Enter the code from your authenticator app"[..]
                ),
                (attr::PROXY_STATE, &b"first"[..]),
                (attr::PROXY_STATE, &b"second"[..]),
            ]
        );
        assert_eq!(
            parsed.attributes().next().map(|(ty, _)| ty),
            Some(attr::MESSAGE_AUTHENTICATOR)
        );
        assert_eq!(&answer[20..22], &[attr::MESSAGE_AUTHENTICATOR, 18]);
    }
}

#[test]
fn response_without_proxy_state_has_none() {
    let bytes = encode_request(3, &AUTH, &[(attr::USER_NAME, b"bob")], SECRET, true).unwrap();
    let request = Packet::parse(&bytes).unwrap();
    let answer = encode_response(Code::AccessReject, &request, &[], SECRET).unwrap();
    let parsed = Packet::parse(&answer).unwrap();
    assert_eq!(parsed.attributes().count(), 1);
    assert_eq!(answer.len(), 38);
    assert!(parsed.response_valid(&AUTH, SECRET));
}

#[test]
fn encoding_limits() {
    let bytes = sample_request();
    let request = Packet::parse(&bytes).unwrap();
    let long = [b'x'; 254];
    assert_eq!(
        encode_response(
            Code::AccessAccept,
            &request,
            &[(attr::REPLY_MESSAGE, &long)],
            SECRET
        ),
        Err(PacketError::AttributeTooLong { ty: 18, len: 254 })
    );
    assert!(
        encode_response(
            Code::AccessAccept,
            &request,
            &[(attr::REPLY_MESSAGE, &long[..253])],
            SECRET
        )
        .is_ok()
    );
    // 17 values of 253 octets: over 4096.
    let many = vec![(attr::REPLY_MESSAGE, &long[..253]); 17];
    assert!(matches!(
        encode_response(Code::AccessAccept, &request, &many, SECRET),
        Err(PacketError::PacketTooLong(_))
    ));
    assert!(matches!(
        encode_request(1, &AUTH, &many, SECRET, true),
        Err(PacketError::PacketTooLong(_))
    ));
    for reserved in [attr::MESSAGE_AUTHENTICATOR, attr::PROXY_STATE] {
        assert_eq!(
            encode_response(
                Code::AccessAccept,
                &request,
                &[(reserved, &[0; 16])],
                SECRET
            ),
            Err(PacketError::ReservedAttribute(reserved))
        );
    }
    assert_eq!(
        encode_request(
            1,
            &AUTH,
            &[(attr::MESSAGE_AUTHENTICATOR, &[0; 16])],
            SECRET,
            false
        ),
        Err(PacketError::ReservedAttribute(attr::MESSAGE_AUTHENTICATOR))
    );
    assert_eq!(
        encode_request(
            1,
            &AUTH,
            &[(attr::USER_PASSWORD, &[b'p'; 129])],
            SECRET,
            true
        ),
        Err(PacketError::PasswordTooLong(129))
    );
}

#[test]
fn reply_messages_split_on_character_boundaries() {
    assert!(reply_messages("").is_empty());
    assert_eq!(reply_messages("Hello"), [b"Hello".to_vec()]);
    let exact = "a".repeat(253);
    assert_eq!(reply_messages(&exact).len(), 1);
    // 252 ASCII then a 3-octet character: it does not fit in the first value.
    let text = format!("{}€tail", "a".repeat(252));
    let parts = reply_messages(&text);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].len(), 252);
    assert_eq!(parts[1], "€tail".as_bytes());
    let long = "é".repeat(300);
    let parts = reply_messages(&long);
    assert!(
        parts
            .iter()
            .all(|p| p.len() <= 253 && std::str::from_utf8(p).is_ok())
    );
    assert_eq!(parts.concat(), long.as_bytes());
}

#[test]
fn codes_convert_both_ways() {
    for (code, n) in [
        (Code::AccessRequest, 1),
        (Code::AccessAccept, 2),
        (Code::AccessReject, 3),
        (Code::AccessChallenge, 11),
        (Code::Other(4), 4),
        (Code::Other(12), 12),
    ] {
        assert_eq!(Code::from(n), code);
        assert_eq!(u8::from(code), n);
    }
    let mut bytes = sample_request();
    bytes[0] = 12;
    assert_eq!(Packet::parse(&bytes).unwrap().code, Code::Other(12));
}

#[test]
fn debug_shows_no_attribute_values() {
    let bytes = sample_request();
    let shown = format!("{:?}", Packet::parse(&bytes).unwrap());
    assert!(shown.contains("identifier: 200"), "{shown}");
    assert!(
        !shown.contains("bob") && !shown.contains("98, 111, 98"),
        "{shown}"
    );
}

proptest! {
    #[test]
    fn random_requests_round_trip(
        password in proptest::collection::vec(1u8..=255, 0..=128),
        name in proptest::collection::vec(any::<u8>(), 1..=253),
        state in proptest::collection::vec(any::<u8>(), 0..=253),
        proxies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..=40), 0..4),
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        auth in any::<[u8; 16]>(),
        identifier in any::<u8>(),
    ) {
        let mut attributes: Vec<(u8, &[u8])> = vec![
            (attr::USER_NAME, &name),
            (attr::USER_PASSWORD, &password),
            (attr::STATE, &state),
        ];
        attributes.extend(proxies.iter().map(|p| (attr::PROXY_STATE, p.as_slice())));
        let bytes = encode_request(identifier, &auth, &attributes, &secret, true).unwrap();
        let request = Packet::parse(&bytes).unwrap();
        prop_assert_eq!(request.message_authenticator_valid(&secret), Some(true));
        prop_assert_eq!(request.identifier, identifier);
        prop_assert_eq!(request.attribute(attr::USER_NAME), Some(name.as_slice()));
        prop_assert_eq!(request.attribute(attr::STATE), Some(state.as_slice()));
        let hidden = request.attribute(attr::USER_PASSWORD).unwrap();
        prop_assert_eq!(hidden.len(), password.len().div_ceil(16).max(1) * 16);
        let clear = decode_user_password(hidden, &secret, &auth).unwrap();
        prop_assert_eq!(clear.as_slice(), password.as_slice());

        let answer = encode_response(Code::AccessChallenge, &request, &[(attr::STATE, &state)], &secret).unwrap();
        let parsed = Packet::parse(&answer).unwrap();
        prop_assert!(parsed.response_valid(&auth, &secret));
        prop_assert_eq!(parsed.attributes().next().map(|(ty, _)| ty), Some(attr::MESSAGE_AUTHENTICATOR));
        let copied: Vec<&[u8]> = parsed.attributes().filter(|(ty, _)| *ty == attr::PROXY_STATE).map(|(_, v)| v).collect();
        let sent: Vec<&[u8]> = proxies.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(copied, sent);
    }

    #[test]
    fn parse_never_panics_and_accessors_agree(
        body in proptest::collection::vec(any::<u8>(), 0..600),
        padding in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        // A header whose Length is right, so that the attributes are what is tried.
        let mut data = datagram(u16::try_from(20 + body.len()).unwrap(), &body);
        data.extend_from_slice(&padding);
        if let Ok(packet) = Packet::parse(&data) {
            let total: usize = packet.attributes().map(|(_, v)| v.len() + 2).sum();
            prop_assert_eq!(total + 20, packet.as_bytes().len());
            prop_assert_eq!(packet.has_message_authenticator(), packet.count(attr::MESSAGE_AUTHENTICATOR) == 1);
            let _ = packet.message_authenticator_valid(b"k");
            let _ = packet.response_valid(&[0; 16], b"k");
            prop_assert!(encode_response(Code::AccessReject, &packet, &[], b"k").is_ok());
        }
    }
}
