//! RFC 4648 base32 decoding: never panics; decoded bytes re-encode to text that decodes to them,
//! and canonical text (our own encoding) survives decode + encode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_otp::base32;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = base32::decode(text) {
            for pad in [false, true] {
                let encoded = base32::encode(&bytes, pad);
                assert_eq!(base32::decode(&encoded).expect("our encoding decodes"), bytes);
            }
        }
    }
    let encoded = base32::encode(data, true);
    assert_eq!(base32::decode(&encoded).expect("our encoding decodes"), data);
    assert_eq!(base32::decode(&encoded.to_lowercase()).expect("lower case decodes"), data);
});
