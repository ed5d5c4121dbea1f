//! RADIUS packets: the parser never panics on any datagram; every accessor, the authenticator
//! checks and the password reveal run on what it accepts; an answer to an accepted packet parses
//! back, checks, starts with its Message-Authenticator and carries the request's Proxy-States.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_otp::radius::{
    Code, Packet, PacketError, attr, decode_user_password, encode_response, encode_user_password,
    reply_messages,
};

const SECRET: &[u8] = b"fuzz-secret";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    assert_eq!(reply_messages(&text).concat(), text.as_bytes());

    let Ok(packet) = Packet::parse(data) else {
        return;
    };
    let raw = packet.as_bytes();
    assert!(raw.len() >= 20 && raw.len() <= data.len());
    let total: usize = packet.attributes().map(|(_, value)| value.len() + 2).sum();
    assert_eq!(total + 20, raw.len());
    for (ty, value) in packet.attributes() {
        assert!(packet.count(ty) >= 1);
        assert!(packet.attribute(ty).is_some());
        assert!(value.len() <= 253);
    }
    assert_eq!(
        packet.has_message_authenticator(),
        packet.count(attr::MESSAGE_AUTHENTICATOR) == 1
    );
    assert_eq!(
        packet.message_authenticator_valid(SECRET).is_some(),
        packet.has_message_authenticator()
    );
    let _ = packet.response_valid(&packet.authenticator, SECRET);
    let _ = format!("{packet:?}");

    if let Some(hidden) = packet.attribute(attr::USER_PASSWORD)
        && let Ok(clear) = decode_user_password(hidden, SECRET, &packet.authenticator)
    {
        let again = encode_user_password(&clear, SECRET, &packet.authenticator)
            .expect("a revealed password hides again");
        let back = decode_user_password(&again, SECRET, &packet.authenticator)
            .expect("our hidden password reveals");
        assert_eq!(back, clear);
    }

    let state = packet.attribute(attr::STATE).unwrap_or(b"state");
    let attributes: [(u8, &[u8]); 2] = [
        (attr::STATE, state),
        (attr::REPLY_MESSAGE, b"Enter the code"),
    ];
    match encode_response(Code::AccessChallenge, &packet, &attributes, SECRET) {
        Ok(answer) => {
            let parsed = Packet::parse(&answer).expect("our answer parses");
            assert_eq!(parsed.identifier, packet.identifier);
            assert!(parsed.response_valid(&packet.authenticator, SECRET));
            assert_eq!(
                parsed.attributes().next().map(|(ty, _)| ty),
                Some(attr::MESSAGE_AUTHENTICATOR)
            );
            let sent = packet
                .attributes()
                .filter(|(ty, _)| *ty == attr::PROXY_STATE);
            let copied = parsed
                .attributes()
                .filter(|(ty, _)| *ty == attr::PROXY_STATE);
            assert!(sent.eq(copied));
        }
        Err(error) => assert!(matches!(error, PacketError::PacketTooLong(_)), "{error}"),
    }
});
