//! Backup codes: 10 single-use codes of 10 characters from an unambiguous alphabet, shown as
//! `abcde-fghij`. Input ignores case, spaces and dashes.

use crate::crypto::Rng;

/// How many codes a set has.
pub const SET_SIZE: usize = 10;
/// Characters in a code (without the dash).
pub const CODE_LEN: usize = 10;
/// Lower-case letters and digits without look-alikes (no 0/o, 1/l/i, no u/v confusion): 29
/// symbols, so a code carries about 48.6 bits.
pub const ALPHABET: &[u8] = b"abcdefghjkmnpqrstwxyz23456789";

/// Draws one code (unbiased: rejection sampling over the alphabet).
pub fn generate_code(rng: &dyn Rng) -> String {
    let mut out = String::with_capacity(CODE_LEN);
    let limit = 256 - (256 % ALPHABET.len());
    while out.len() < CODE_LEN {
        let mut b = [0u8; 16];
        rng.fill(&mut b);
        for x in b {
            if usize::from(x) < limit && out.len() < CODE_LEN {
                out.push(char::from(ALPHABET[usize::from(x) % ALPHABET.len()]));
            }
        }
    }
    out
}

/// Draws a whole set of distinct codes.
pub fn generate_set(rng: &dyn Rng) -> Vec<String> {
    let mut set: Vec<String> = Vec::with_capacity(SET_SIZE);
    while set.len() < SET_SIZE {
        let c = generate_code(rng);
        if !set.contains(&c) {
            set.push(c);
        }
    }
    set
}

/// Shows a code grouped: `abcde-fghij`. Other codes (scratch codes imported from
/// pam_google_authenticator, 8 digits) are shown as they are.
pub fn display(code: &str) -> String {
    match (code.len() == CODE_LEN, code.get(..5), code.get(5..)) {
        (true, Some(a), Some(b)) => format!("{a}-{b}"),
        _ => code.to_owned(),
    }
}

/// Whether typed digits have the shape of a scratch code imported from
/// pam_google_authenticator (8 digits): such a code is also looked up as a backup code.
pub fn is_scratch_code(digits: &str) -> bool {
    digits.len() == SCRATCH_CODE_LEN && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The length of an imported scratch code.
pub const SCRATCH_CODE_LEN: usize = 8;

/// Normalises typed input (case, spaces, dashes); `None` when it cannot be a backup code (the
/// wrong length or a character that is not a letter or digit).
pub fn normalize(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\t'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (s.len() == CODE_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::OsRng;

    #[test]
    fn codes_have_the_promised_shape() {
        let set = generate_set(&OsRng);
        assert_eq!(set.len(), 10);
        for c in &set {
            assert_eq!(c.len(), 10);
            assert!(c.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(normalize(&display(c)).as_deref(), Some(c.as_str()));
            assert_eq!(
                normalize(&display(c).to_uppercase().replace('-', " - ")).as_deref(),
                Some(c.as_str())
            );
        }
        assert_eq!(normalize("abcde-fghi"), None);
        assert_eq!(normalize("abcde-fghij!"), None);
        assert_eq!(normalize("123456"), None);
    }

    #[test]
    fn scratch_codes_are_eight_digits_shown_as_they_are() {
        assert!(is_scratch_code("10608493"));
        assert!(!is_scratch_code("1060849"));
        assert!(!is_scratch_code("106084930"));
        assert!(!is_scratch_code("1060849a"));
        assert_eq!(display("10608493"), "10608493");
        assert_eq!(display("abcdefghij"), "abcde-fghij");
    }
}
