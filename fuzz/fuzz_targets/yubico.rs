//! Yubico OTP decoding: never panics; a parsed OTP re-encodes to itself, and a token that passes
//! its CRC re-encrypts from its fields to the very same token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_otp::yubico::{AesKey, YubicoOtp};

fuzz_target!(|data: &[u8]| {
    let Some((&key_byte, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(otp) = YubicoOtp::parse(text) else { return };
    assert_eq!(otp.to_modhex(), text.to_lowercase());
    let key = AesKey::from_bytes([key_byte; 16]);
    if let Ok(fields) = otp.decrypt(&key) {
        let again = fields.encrypt(&key, otp.public_id());
        assert_eq!(again, otp);
    }
});
