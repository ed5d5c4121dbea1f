//! `twofold import --format pskc`: RFC 6030 Portable Symmetric Key Containers, the XML files
//! hardware-token vendors ship their seeds in and privacyIDEA and python-pskc exchange.
//!
//! The file is read whole (at most [`MAX_PSKC_BYTES`]) into a tree; a DOCTYPE is refused
//! outright, so no DTD, no entity, nothing fetched. Before parsing, one pass over the text
//! refuses a file with more than [`MAX_PSKC_NAMESPACES`] namespace declarations or a tag with
//! more than [`MAX_PSKC_ATTRIBUTES`] attributes: the parser's cost grows with their square.
//! Each `<KeyPackage>` is one entry, reported with the line it starts on and named by its number
//! and Key Id; a bad entry is refused and the others go on, as a bad line of the line-based
//! formats is.
//!
//! A password-protected file (`<EncryptionKey><DerivedKey>` with PBKDF2, RFC 6030 §6.2) has its
//! values encrypted with AES-CBC (the IV before the ciphertext) under the derived key and
//! authenticated by HMAC over IV ‖ ciphertext (`<ValueMAC>`), with the MAC key itself encrypted
//! in `<MACMethod><MACKey>`. Every MAC is checked, in constant time, before its value is
//! decrypted; a file none of whose MACs match was given the wrong password, and nothing of it is
//! imported. A file encrypted with a pre-shared key (`<EncryptionKey><KeyName>`, RFC 6030 §6.1)
//! is opened the same way with that key given as it is. In an encrypted file a `<Secret>` in a
//! `<PlainValue>` is covered by no MAC and its entry is refused; a password or key given for a
//! file that is not encrypted refuses the file. RFC 6030's MACs cover only encrypted values: a
//! `<UserId>` is taken as the file gives it.

use std::num::NonZeroU64;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use roxmltree::{Document, Node};
use subtle::ConstantTimeEq as _;
use twofold_otp::{Algorithm, Digits, OtpKind, Secret};
use zeroize::Zeroizing;

use super::{ImportedKey, MAX_IMPORT_KEYS, MAX_IMPORT_PROBLEMS, ParsedKeys, check_key};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::identity::MAX_USERNAME_LEN;
use crate::service::MAX_DRIFT_STEPS;

/// The largest PSKC file an import reads, in bytes: room for [`MAX_IMPORT_KEYS`] encrypted
/// entries.
pub const MAX_PSKC_BYTES: usize = 32 << 20;
/// The most PBKDF2 iterations a file may ask for: more would let a hostile file hold the
/// import for minutes.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// The most XML nodes a file may hold (a few dozen an entry): bounds the tree in memory.
const MAX_NODES: u32 = 2_000_000;
/// The most namespace declarations (`xmlns`, `xmlns:p`) a file may hold in all: PSKC files
/// declare a handful on their root (python-pskc knows 5: pskc, ds, xenc, xenc11, pkcs5). The XML
/// parser's cost grows with the square of these, so a file with more is refused before parsing.
const MAX_PSKC_NAMESPACES: usize = 64;
/// The most attributes one tag may have: PSKC's elements have at most a few (plus the root's
/// namespace declarations). The parser's duplicate check grows with the square of these.
const MAX_PSKC_ATTRIBUTES: usize = 64;
/// The most characters of a value from the file that a message repeats.
const MAX_SHOWN: usize = 64;

const PSKC_NS: &str = "urn:ietf:params:xml:ns:keyprov:pskc";

/// What opens an encrypted PSKC file.
#[derive(Clone, Copy)]
pub enum PskcKey<'a> {
    /// Nothing: the file must not be encrypted.
    None,
    /// The password a password-protected file's key is derived from (PBKDF2).
    Password(&'a [u8]),
    /// The pre-shared AES key itself (16, 24 or 32 bytes).
    PreShared(&'a [u8]),
}

impl std::fmt::Debug for PskcKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PskcKey::None => "None",
            PskcKey::Password(_) => "Password([redacted])",
            PskcKey::PreShared(_) => "PreShared([redacted])",
        })
    }
}

/// Reads a PSKC file, opened with `key` when it is encrypted. An error is about the whole file
/// (not XML, not PSKC, a wrong or missing password or key, an encryption it does not support):
/// nothing of it may be imported. Entries that cannot be imported are refused one by one.
pub fn parse_pskc(bytes: &[u8], key: PskcKey<'_>) -> Result<ParsedKeys> {
    if bytes.len() > MAX_PSKC_BYTES {
        return Err(fatal(format!(
            "the file is larger than {} MiB: not a PSKC file",
            MAX_PSKC_BYTES >> 20
        )));
    }
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| !t.contains('\0'))
        .ok_or_else(|| fatal("it is not UTF-8 text (a binary file?): not a PSKC file"))?;
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(fatal(
            "the file has a DOCTYPE: PSKC files have none, and DTDs and entities are refused",
        ));
    }
    check_tags(text)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => {
            fatal("the file has a DOCTYPE: PSKC files have none, and DTDs and entities are refused")
        }
        roxmltree::Error::NodesLimitReached => {
            fatal("the file holds too many XML elements: not a PSKC file")
        }
        e => fatal(format!(
            "it is not well-formed XML ({}): a truncated or damaged file?",
            truncated(&e.to_string(), 4 * MAX_SHOWN)
        )),
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "KeyContainer" || root.tag_name().namespace() != Some(PSKC_NS) {
        return Err(fatal(format!(
            "the root element is <{}>, not a PSKC <KeyContainer> ({PSKC_NS}): not a PSKC file",
            truncated(root.tag_name().name(), MAX_SHOWN)
        )));
    }
    match root.attribute("Version") {
        Some("1.0") => {}
        Some(v) => {
            return Err(fatal(format!(
                "PSKC version {} is not supported (1.0 is)",
                shown(v)
            )));
        }
        None => {
            return Err(fatal(
                "the <KeyContainer> has no Version: not a PSKC 1.0 file",
            ));
        }
    }
    let keys = Keys::of(root, key)?;
    let what = match key {
        PskcKey::PreShared(_) => "key",
        _ => "password",
    };
    let mut reader = Reader {
        keys,
        verified: 0,
        bad_macs: 0,
        encrypted: false,
    };
    let mut parsed = ParsedKeys::default();
    let lines = Lines::of(text);
    let packages = root.children().filter(|n| is(n, "KeyPackage"));
    for (i, package) in packages.enumerate() {
        let n = i + 1;
        let line = lines.at(package.range().start);
        let mut any = false;
        for key in package.children().filter(|k| is(k, "Key")) {
            any = true;
            let name = match key.attribute("Id") {
                Some(id) => format!("KeyPackage {n} (Key Id {})", shown(id)),
                None => format!("KeyPackage {n} (a Key with no Id)"),
            };
            match reader.entry(package, key) {
                Ok(mut k) => match check_key(&k) {
                    Ok(()) => {
                        k.line = line;
                        parsed.keys.push(k);
                    }
                    Err(why) => parsed.refused.push((line, format!("{name}: {why}"))),
                },
                Err(why) => parsed.refused.push((line, format!("{name}: {why}"))),
            }
        }
        if !any {
            parsed
                .refused
                .push((line, format!("KeyPackage {n}: it holds no <Key>")));
        }
        if parsed.keys.len() > MAX_IMPORT_KEYS {
            return Err(fatal(format!(
                "more than {MAX_IMPORT_KEYS} keys in one file: split it"
            )));
        }
        if parsed.refused.len() > MAX_IMPORT_PROBLEMS {
            return Err(fatal(format!(
                "more than {MAX_IMPORT_PROBLEMS} entries refused: not a key file"
            )));
        }
    }
    if reader.encrypted && reader.verified == 0 && reader.bad_macs > 0 {
        return Err(wrong_key(what));
    }
    if parsed.keys.is_empty() && parsed.refused.is_empty() {
        parsed
            .refused
            .push((0, "the file holds no keys (no <KeyPackage>)".into()));
    }
    Ok(parsed)
}

/// Refuses, before the XML parser sees it, a file with more than [`MAX_PSKC_NAMESPACES`]
/// namespace declarations or a tag with more than [`MAX_PSKC_ATTRIBUTES`] attributes: one pass
/// over the text, counting the `=` outside quotes of each tag (comments, CDATA sections and
/// processing instructions skipped).
fn check_tags(text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let mut namespaces = 0usize;
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|b| *b == b'<') {
        i += at;
        let rest = &bytes[i..];
        let skip_to = |end: &[u8]| {
            rest.windows(end.len())
                .position(|w| w == end)
                .map_or(bytes.len(), |p| i + p + end.len())
        };
        if rest.starts_with(b"<!--") {
            i = skip_to(b"-->");
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            i = skip_to(b"]]>");
            continue;
        }
        if rest.starts_with(b"<?") {
            i = skip_to(b"?>");
            continue;
        }
        // A tag: up to its `>` outside quotes.
        let mut attributes = 0usize;
        let mut quote = None;
        // The last name seen in the tag, the one an `=` belongs to.
        let (mut name, mut in_name) = ((0, 0), false);
        let mut j = i + 1;
        while j < bytes.len() {
            let b = bytes[j];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => {
                    let name_byte =
                        !matches!(b, b'"' | b'\'' | b'>' | b'=' | b'/') && !b.is_ascii_whitespace();
                    if name_byte && !in_name {
                        name.0 = j;
                    }
                    if !name_byte && in_name {
                        name.1 = j;
                    }
                    in_name = name_byte;
                    match b {
                        b'"' | b'\'' => quote = Some(b),
                        b'>' => break,
                        b'=' => {
                            attributes += 1;
                            let name = &bytes[name.0..name.1.max(name.0)];
                            if name == b"xmlns" || name.starts_with(b"xmlns:") {
                                namespaces += 1;
                            }
                        }
                        _ => {}
                    }
                }
            }
            j += 1;
        }
        if namespaces > MAX_PSKC_NAMESPACES {
            return Err(fatal(format!(
                "the file declares more than {MAX_PSKC_NAMESPACES} XML namespaces: not a PSKC \
                 file"
            )));
        }
        if attributes > MAX_PSKC_ATTRIBUTES {
            return Err(fatal(format!(
                "a tag has more than {MAX_PSKC_ATTRIBUTES} attributes: not a PSKC file"
            )));
        }
        i = j;
    }
    Ok(())
}

/// The line each byte offset of a text is on: the offsets of its newlines, found in one pass,
/// then a binary search per offset.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Self {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The line (from 1) of byte offset `at`.
    fn at(&self, at: usize) -> usize {
        self.0.partition_point(|nl| *nl < at) + 1
    }
}

/// `value` in quotes as `{:?}` writes it, cut to [`MAX_SHOWN`] characters: a value from the file
/// repeated in a message.
fn shown(value: &str) -> String {
    format!("{:?}", truncated(value, MAX_SHOWN))
}

/// `text` cut to `max` characters, with an ellipsis when it was cut.
fn truncated(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

fn fatal(why: impl Into<String>) -> Error {
    let why: String = why.into();
    Error::invalid("pskc_unreadable", Text::raw(why))
}

fn wrong_key(what: &str) -> Error {
    Error::invalid(
        "pskc_wrong_key",
        Text::raw(format!(
            "the PSKC {what} is wrong (the file's MACs do not match)"
        )),
    )
}

/// Whether `node` is the PSKC element `name`. Elements of the other schemas a PSKC file uses
/// (xmlenc, xmldsig, PKCS #5, some unqualified) are matched by their local name alone.
fn is(node: &Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(c, name))
}

fn path<'a, 'i>(node: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(node, |n, name| child(n, name))
}

fn text_of<'a>(node: Node<'a, '_>) -> &'a str {
    node.text().unwrap_or_default().trim()
}

fn base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut cleaned = Zeroizing::new(String::with_capacity(text.len()));
    cleaned.extend(text.chars().filter(|c| !c.is_ascii_whitespace()));
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .ok()
        .map(Zeroizing::new)
}

/// The HMACs PSKC names for MACs and PBKDF2's pseudo-random function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HmacAlg {
    Sha1,
    Sha256,
    Sha512,
}

impl HmacAlg {
    fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1" => Some(HmacAlg::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256" => Some(HmacAlg::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512" => Some(HmacAlg::Sha512),
            _ => None,
        }
    }

    fn mac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            // HMAC takes a key of any length.
            let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
                return Vec::new();
            };
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        match self {
            HmacAlg::Sha1 => run::<hmac::Hmac<sha1::Sha1>>(key, data),
            HmacAlg::Sha256 => run::<hmac::Hmac<sha2::Sha256>>(key, data),
            HmacAlg::Sha512 => run::<hmac::Hmac<sha2::Sha512>>(key, data),
        }
    }

    fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
        match self {
            HmacAlg::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, out),
            HmacAlg::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, out),
            HmacAlg::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, out),
        }
    }
}

/// AES-CBC with PKCS #7 padding, the IV the first block of `data`. `None` when `data` is not
/// whole blocks or its padding is wrong.
fn aes_cbc_decrypt(key: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return None;
    }
    let (iv, body) = data.split_at(16);
    let mut buf = Zeroizing::new(body.to_vec());
    let len = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .ok()?
            .len(),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .ok()?
            .len(),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .ok()?
            .len(),
        _ => return None,
    };
    buf.truncate(len);
    Some(buf)
}

/// The key length an `<EncryptionMethod>` algorithm needs, for those Twofold decrypts.
fn cipher_key_len(uri: &str) -> Option<usize> {
    match uri {
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Some(16),
        "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Some(24),
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Some(32),
        _ => None,
    }
}

/// The file's encryption and MAC keys, when it has them.
struct Keys {
    encryption: Zeroizing<Vec<u8>>,
    mac: (HmacAlg, Zeroizing<Vec<u8>>),
}

impl Keys {
    fn of(root: Node<'_, '_>, given: PskcKey<'_>) -> Result<Option<Keys>> {
        let Some(encryption_key) = child(root, "EncryptionKey") else {
            // A password or key given for a file that has none: its values would be taken
            // unchecked, as if they had been protected.
            return match given {
                PskcKey::None => Ok(None),
                PskcKey::Password(_) => Err(Error::invalid(
                    "pskc_not_encrypted",
                    Text::raw("the file is not encrypted, but a password was given: refusing"),
                )),
                PskcKey::PreShared(_) => Err(Error::invalid(
                    "pskc_not_encrypted",
                    Text::raw("the file is not encrypted, but a key was given: refusing"),
                )),
            };
        };
        let (mac_alg, cipher_len, mac_key_cipher) = mac_method(root)?;
        let derived = child(encryption_key, "DerivedKey");
        let (encryption, what) = match (derived, given) {
            (Some(derived), PskcKey::Password(password)) => {
                (derive(derived, password, cipher_len)?, "password")
            }
            (Some(_), _) => {
                return Err(Error::invalid(
                    "pskc_password_required",
                    Text::raw(
                        "the PSKC file is password-protected: give the password with \
                     --password-file FILE (or TWOFOLD_IMPORT_PASSWORD)",
                    ),
                ));
            }
            (None, PskcKey::PreShared(key)) => {
                if key.len() != cipher_len {
                    return Err(fatal(format!(
                        "the file's cipher takes a {}-bit key; the key given has {} bits",
                        cipher_len * 8,
                        key.len() * 8
                    )));
                }
                (Zeroizing::new(key.to_vec()), "key")
            }
            (None, _) => {
                let name = child(encryption_key, "KeyName").map(text_of);
                return Err(Error::invalid(
                    "pskc_key_required",
                    Text::raw(format!(
                        "the PSKC file is encrypted with a pre-shared key{}: give it in hex with \
                         --key-file FILE",
                        name.map(|n| format!(" named {}", shown(n)))
                            .unwrap_or_default()
                    )),
                ));
            }
        };
        // The MAC key has no MAC of its own: a wrong password or key shows as bad padding
        // here, or, one time in 256, as MACs that do not match.
        let mac = aes_cbc_decrypt(&encryption, &mac_key_cipher).ok_or_else(|| wrong_key(what))?;
        Ok(Some(Keys {
            encryption,
            mac: (mac_alg, mac),
        }))
    }
}

/// The file's MAC algorithm, and its encrypted MAC key's cipher key length and IV ‖ ciphertext.
fn mac_method(root: Node<'_, '_>) -> Result<(HmacAlg, usize, Zeroizing<Vec<u8>>)> {
    let mac_method = child(root, "MACMethod").ok_or_else(|| {
        fatal(
            "the file is encrypted but has no <MACMethod>: without MACs a wrong password \
             cannot be told from a right one",
        )
    })?;
    let mac_uri = mac_method.attribute("Algorithm").unwrap_or_default();
    let mac_alg = HmacAlg::from_uri(mac_uri).ok_or_else(|| {
        fatal(format!(
            "the MAC algorithm {} is not supported",
            shown(mac_uri)
        ))
    })?;
    let mac_key = child(mac_method, "MACKey").ok_or_else(|| {
        fatal("the <MACMethod> has no <MACKey> (a MAC key by reference is not supported)")
    })?;
    let (cipher_len, mac_key_cipher) =
        encrypted_parts(mac_key).map_err(|why| fatal(format!("the <MACKey>: {why}")))?;
    Ok((mac_alg, cipher_len, mac_key_cipher))
}

/// The key a `<DerivedKey>` derives from `password`, for a cipher of `cipher_len` bytes.
fn derive(derived: Node<'_, '_>, password: &[u8], cipher_len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let method = child(derived, "KeyDerivationMethod")
        .ok_or_else(|| fatal("the <DerivedKey> has no <KeyDerivationMethod>"))?;
    let algorithm = method.attribute("Algorithm").unwrap_or_default();
    if !algorithm.ends_with("#pbkdf2") {
        return Err(fatal(format!(
            "the key derivation {} is not supported (PBKDF2 is)",
            shown(algorithm)
        )));
    }
    let params = child(method, "PBKDF2-params")
        .ok_or_else(|| fatal("the PBKDF2 key derivation has no <PBKDF2-params>"))?;
    let salt = path(params, &["Salt", "Specified"])
        .and_then(|n| base64(text_of(n)))
        .ok_or_else(|| fatal("the PBKDF2 parameters have no base64 <Salt><Specified>"))?;
    let iterations: u32 = child(params, "IterationCount")
        .and_then(|n| text_of(n).parse().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| fatal("the PBKDF2 <IterationCount> is not a positive number"))?;
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(fatal(format!(
            "the file asks for {iterations} PBKDF2 iterations; at most \
             {MAX_PBKDF2_ITERATIONS} are allowed"
        )));
    }
    let prf = match child(params, "PRF") {
        None => HmacAlg::Sha1,
        Some(p) => {
            let uri = p.attribute("Algorithm").unwrap_or_else(|| text_of(p));
            if uri.is_empty() {
                HmacAlg::Sha1
            } else {
                HmacAlg::from_uri(uri).ok_or_else(|| {
                    fatal(format!(
                        "the PBKDF2 function {} is not supported",
                        shown(uri)
                    ))
                })?
            }
        }
    };
    let key_len = match child(params, "KeyLength") {
        None => cipher_len,
        Some(n) => text_of(n)
            .parse::<usize>()
            .ok()
            .ok_or_else(|| fatal("the PBKDF2 <KeyLength> is not a number"))?,
    };
    if key_len != cipher_len {
        return Err(fatal(format!(
            "the PBKDF2 key has {key_len} bytes, the cipher needs {cipher_len}"
        )));
    }
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    prf.pbkdf2(password, &salt, iterations, &mut key);
    Ok(key)
}

/// An `<EncryptedValue>`'s (or `<MACKey>`'s) key length and IV ‖ ciphertext.
fn encrypted_parts(node: Node<'_, '_>) -> std::result::Result<(usize, Zeroizing<Vec<u8>>), String> {
    let uri = child(node, "EncryptionMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or("it has no <EncryptionMethod Algorithm=…>")?;
    let len = cipher_key_len(uri).ok_or_else(|| {
        format!(
            "the cipher {} is not supported (AES-128/192/256-CBC are)",
            shown(uri)
        )
    })?;
    let data = path(node, &["CipherData", "CipherValue"])
        .and_then(|n| base64(text_of(n)))
        .ok_or("it has no base64 <CipherData><CipherValue>")?;
    Ok((len, data))
}

/// Reads entries, counting MACs checked and failed.
struct Reader {
    keys: Option<Keys>,
    verified: usize,
    bad_macs: usize,
    encrypted: bool,
}

impl Reader {
    /// The value of a PSKC data element (`<Secret>`, `<Counter>`, …): its `<PlainValue>`
    /// (base64 for binary values, decimal for numbers), or its `<EncryptedValue>` checked
    /// against its `<ValueMAC>`, then decrypted.
    fn value(
        &mut self,
        data: Node<'_, '_>,
        name: &str,
        binary: bool,
    ) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
        let Some(el) = child(data, name) else {
            return Ok(None);
        };
        if let Some(plain) = child(el, "PlainValue") {
            // In an encrypted file every secret is encrypted and MACed: one in plain text
            // could have been put there by anyone, past the MACs.
            if binary && self.keys.is_some() {
                return Err(format!(
                    "its <{name}> is not encrypted in an encrypted file, so no MAC covers it: \
                     the file was altered"
                ));
            }
            let text = text_of(plain);
            return if binary {
                base64(text)
                    .map(Some)
                    .ok_or_else(|| format!("its <{name}> is not base64"))
            } else {
                Ok(Some(Zeroizing::new(text.as_bytes().to_vec())))
            };
        }
        let Some(encrypted) = child(el, "EncryptedValue") else {
            return Err(format!(
                "its <{name}> has neither a value nor an encrypted one"
            ));
        };
        self.encrypted = true;
        let Some(keys) = &self.keys else {
            return Err(format!(
                "its <{name}> is encrypted but the file names no key (<EncryptionKey>)"
            ));
        };
        let (len, cipher) =
            encrypted_parts(encrypted).map_err(|why| format!("its encrypted <{name}>: {why}"))?;
        if len != keys.encryption.len() {
            return Err(format!(
                "its <{name}> is encrypted with a {}-bit cipher, the file's key has {} bits",
                len * 8,
                keys.encryption.len() * 8
            ));
        }
        let mac = child(el, "ValueMAC")
            .and_then(|n| base64(text_of(n)))
            .ok_or_else(|| format!("its encrypted <{name}> has no <ValueMAC>"))?;
        let (alg, mac_key) = &keys.mac;
        let expected = alg.mac(mac_key, &cipher);
        if !bool::from(expected.as_slice().ct_eq(&mac)) {
            self.bad_macs += 1;
            return Err(format!(
                "the MAC of its <{name}> does not match: the file was altered"
            ));
        }
        self.verified += 1;
        let plain = aes_cbc_decrypt(&keys.encryption, &cipher)
            .ok_or_else(|| format!("its <{name}> does not decrypt"))?;
        if binary {
            return Ok(Some(plain));
        }
        // A number: python-pskc writes it big-endian, others in ASCII digits.
        if !plain.is_empty() && plain.iter().all(u8::is_ascii_digit) {
            return Ok(Some(plain));
        }
        if plain.len() > 8 {
            return Err(format!("its <{name}> is not a number"));
        }
        let n = plain.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
        Ok(Some(Zeroizing::new(n.to_string().into_bytes())))
    }

    fn number(
        &mut self,
        data: Node<'_, '_>,
        name: &str,
    ) -> std::result::Result<Option<i64>, String> {
        match self.value(data, name, false)? {
            None => Ok(None),
            Some(text) => std::str::from_utf8(&text)
                .ok()
                .and_then(|t| t.trim().parse::<i64>().ok())
                .map(Some)
                .ok_or_else(|| format!("its <{name}> is not a number")),
        }
    }

    fn entry(
        &mut self,
        package: Node<'_, '_>,
        key: Node<'_, '_>,
    ) -> std::result::Result<ImportedKey, String> {
        let uri = key.attribute("Algorithm").unwrap_or_default();
        let totp = match otp_algorithm(uri) {
            Some(totp) => totp,
            None => {
                return Err(format!(
                    "unknown algorithm {} (expected {PSKC_NS}:hotp or {PSKC_NS}:totp)",
                    shown(uri)
                ));
            }
        };
        let params = child(key, "AlgorithmParameters");
        let algorithm = match params.and_then(|p| child(p, "Suite")).map(text_of) {
            None | Some("") => Algorithm::Sha1,
            Some(suite) => hash_of_suite(suite).ok_or_else(|| {
                format!(
                    "unknown suite {} (expected HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512)",
                    shown(suite)
                )
            })?,
        };
        let format = params.and_then(|p| child(p, "ResponseFormat"));
        if let Some(encoding) = format.and_then(|f| f.attribute("Encoding"))
            && !encoding.eq_ignore_ascii_case("DECIMAL")
        {
            return Err(format!(
                "codes in {} are not supported (DECIMAL codes are)",
                shown(encoding)
            ));
        }
        let digits = match format.and_then(|f| f.attribute("Length")) {
            None => Digits::SIX,
            Some(d) => d
                .trim()
                .parse()
                .ok()
                .and_then(|n| Digits::new(n).ok())
                .ok_or_else(|| format!("{} digits: a code has 6, 7 or 8", shown(d)))?,
        };
        let data = child(key, "Data").ok_or("it has no <Data> (and so no secret)")?;
        let secret = self
            .value(data, "Secret", true)?
            .ok_or("it has no <Secret>")?;
        let secret =
            Secret::from_bytes(secret.to_vec()).map_err(|_| "its secret is empty".to_owned())?;
        let mut drift = 0;
        let kind = if totp {
            let period = match self.number(data, "TimeInterval")? {
                None => twofold_otp::Totp::DEFAULT_PERIOD,
                Some(p) => u64::try_from(p)
                    .ok()
                    .and_then(NonZeroU64::new)
                    .ok_or_else(|| format!("a time interval of {p} seconds is not supported"))?,
            };
            if let Some(t0) = self.number(data, "Time")?
                && t0 != 0
            {
                return Err(format!(
                    "its <Time> (T0) is {t0}: only keys counted from the Unix epoch (T0 = 0) \
                     are supported"
                ));
            }
            if let Some(d) = self.number(data, "TimeDrift")? {
                if !(-MAX_DRIFT_STEPS..=MAX_DRIFT_STEPS).contains(&d) {
                    return Err(format!(
                        "a time drift of {d} steps is more than Twofold allows (±{MAX_DRIFT_STEPS})"
                    ));
                }
                drift = d;
            }
            OtpKind::Totp { period }
        } else {
            let counter = match self.number(data, "Counter")? {
                None => 0,
                Some(c) => u64::try_from(c).map_err(|_| format!("its counter {c} is negative"))?,
            };
            OtpKind::Hotp { counter }
        };
        let user = child(key, "UserId")
            .or_else(|| child(package, "DeviceInfo").and_then(|d| child(d, "UserId")))
            .or_else(|| child(package, "UserId"))
            .map(text_of)
            .filter(|u| !u.is_empty())
            .ok_or("it names no user (<UserId> in the <Key> or its <DeviceInfo>)")?;
        if user.len() > MAX_USERNAME_LEN {
            return Err(format!(
                "its <UserId> {} is longer than a username may be ({MAX_USERNAME_LEN} bytes)",
                shown(user)
            ));
        }
        let device = child(package, "DeviceInfo");
        let device_name = || {
            let part = |n: &str| device.and_then(|d| child(d, n)).map(text_of);
            let name = [part("Manufacturer"), part("SerialNo")]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            (!name.is_empty()).then_some(name)
        };
        let label = child(key, "FriendlyName")
            .map(text_of)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .or_else(device_name)
            .or_else(|| {
                child(key, "Issuer")
                    .map(text_of)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
            });
        Ok(ImportedKey {
            line: 0,
            username: user.to_owned(),
            kind,
            secret,
            algorithm,
            digits,
            label,
            scratch_codes: Vec::new(),
            drift,
        })
    }
}

/// Whether a Key's Algorithm is TOTP (`true`) or HOTP (`false`): RFC 6030's URN, the
/// `…pskc#hotp` and `http://www.ietf.org/keyprov/pskc#hotp` forms some vendors write, and the
/// bare names python-pskc keeps as given.
fn otp_algorithm(uri: &str) -> Option<bool> {
    let name = [
        "urn:ietf:params:xml:ns:keyprov:pskc:",
        "urn:ietf:params:xml:ns:keyprov:pskc#",
        "http://www.ietf.org/keyprov/pskc#",
        "",
    ]
    .iter()
    .find_map(|prefix| uri.strip_prefix(prefix))?;
    if name.eq_ignore_ascii_case("totp") {
        Some(true)
    } else if name.eq_ignore_ascii_case("hotp") {
        Some(false)
    } else {
        None
    }
}

/// `HMAC-SHA256`, `hmac-sha256`, `SHA256`, `sha-256`: the hash of an AlgorithmParameters Suite.
fn hash_of_suite(suite: &str) -> Option<Algorithm> {
    let s: String = suite
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    match s.strip_prefix("hmac").unwrap_or(&s) {
        "sha1" => Some(Algorithm::Sha1),
        "sha256" => Some(Algorithm::Sha256),
        "sha512" => Some(Algorithm::Sha512),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockModeEncrypt;

    const SECRET_B64: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn container(head: &str, packages: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <pskc:KeyContainer xmlns:pskc=\"{PSKC_NS}\" \
             xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" \
             xmlns:xenc11=\"http://www.w3.org/2009/xmlenc11#\" Version=\"1.0\">\n\
             {head}{packages}</pskc:KeyContainer>\n"
        )
    }

    fn package(alg: &str, user: &str, secret: &str, data: &str, params: &str) -> String {
        format!(
            "<pskc:KeyPackage>\n<pskc:Key Id=\"k\" Algorithm=\"{alg}\">\n\
             <pskc:AlgorithmParameters>{params}</pskc:AlgorithmParameters>\n\
             <pskc:Data><pskc:Secret>{secret}</pskc:Secret>{data}</pskc:Data>\n\
             <pskc:UserId>{user}</pskc:UserId></pskc:Key>\n</pskc:KeyPackage>\n"
        )
    }

    fn plain(b64: &str) -> String {
        format!("<pskc:PlainValue>{b64}</pskc:PlainValue>")
    }

    fn encrypt(key: &[u8], iv: [u8; 16], plain: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; plain.len() + 16];
        buf[..plain.len()].copy_from_slice(plain);
        let ct = cbc::Encryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .unwrap()
            .encrypt_padded::<Pkcs7>(&mut buf, plain.len())
            .unwrap()
            .to_vec();
        [iv.as_slice(), &ct].concat()
    }

    /// A password-protected container holding one HOTP key, built as RFC 6030 §6.2 describes
    /// (the ValueMAC over IV ‖ ciphertext); `tamper` flips a bit of that MAC.
    fn encrypted_file(password: &[u8], tamper: bool) -> String {
        let salt = b"Ej7/PEpyEpw=salt";
        let mut key = [0u8; 16];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, 1000, &mut key);
        let mac_key = b"MAC key: twenty b";
        let enc_mac_key = encrypt(&key, [7; 16], mac_key);
        let enc_secret = encrypt(&key, [9; 16], b"12345678901234567890");
        let mut mac = HmacAlg::Sha1.mac(mac_key, &enc_secret);
        if tamper {
            mac[0] ^= 1;
        }
        let secret = format!(
            "<pskc:EncryptedValue><xenc:EncryptionMethod \
             Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/>\
             <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>\
             </pskc:EncryptedValue><pskc:ValueMAC>{}</pskc:ValueMAC>",
            b64(&enc_secret),
            b64(&mac)
        );
        let head = format!(
            "<pskc:EncryptionKey><xenc11:DerivedKey><xenc11:KeyDerivationMethod \
             Algorithm=\"http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2\">\
             <xenc11:PBKDF2-params><Salt><Specified>{}</Specified></Salt>\
             <IterationCount>1000</IterationCount><KeyLength>16</KeyLength>\
             </xenc11:PBKDF2-params></xenc11:KeyDerivationMethod></xenc11:DerivedKey>\
             </pskc:EncryptionKey>\n\
             <pskc:MACMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#hmac-sha1\">\
             <pskc:MACKey><xenc:EncryptionMethod \
             Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/><xenc:CipherData>\
             <xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></pskc:MACKey>\
             </pskc:MACMethod>\n",
            b64(salt),
            b64(&enc_mac_key)
        );
        container(
            &head,
            &package(
                "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
                "alice",
                &secret,
                "<pskc:Counter><pskc:PlainValue>3</pskc:PlainValue></pskc:Counter>",
                "",
            ),
        )
    }

    #[test]
    fn pbkdf2_hmac_sha1_matches_rfc_6070() {
        for (password, salt, rounds, hex) in [
            (
                &b"password"[..],
                &b"salt"[..],
                1,
                "0c60c80f961f0e71f3a9b524af6012062fe037a6",
            ),
            (
                b"password",
                b"salt",
                2,
                "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
            ),
            (
                b"password",
                b"salt",
                4096,
                "4b007901b765489abead49d926f721d065a429c1",
            ),
        ] {
            let mut out = [0u8; 20];
            HmacAlg::Sha1.pbkdf2(password, salt, rounds, &mut out);
            let got: String = out.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex);
        }
        let mut out = [0u8; 25];
        HmacAlg::Sha1.pbkdf2(
            b"passwordPASSWORDpassword",
            b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            &mut out,
        );
        let got: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038");
    }

    #[test]
    fn plain_entries_keep_their_parameters() {
        let text = container(
            "",
            &format!(
                "{}{}",
                package(
                    "urn:ietf:params:xml:ns:keyprov:pskc:totp",
                    "alice",
                    &plain(SECRET_B64),
                    "<pskc:TimeInterval><pskc:PlainValue>60</pskc:PlainValue></pskc:TimeInterval>\
                     <pskc:Time><pskc:PlainValue>0</pskc:PlainValue></pskc:Time>\
                     <pskc:TimeDrift><pskc:PlainValue>-2</pskc:PlainValue></pskc:TimeDrift>",
                    "<pskc:Suite>HMAC-SHA256</pskc:Suite>\
                     <pskc:ResponseFormat Encoding=\"DECIMAL\" Length=\"8\"/>",
                ),
                package(
                    "urn:ietf:params:xml:ns:keyprov:pskc#hotp",
                    "bob",
                    &plain(SECRET_B64),
                    "<pskc:Counter><pskc:PlainValue>42</pskc:PlainValue></pskc:Counter>",
                    "",
                ),
            ),
        );
        let p = parse_pskc(text.as_bytes(), PskcKey::None).unwrap();
        assert!(p.refused.is_empty(), "{:?}", p.refused);
        let [a, b] = p.keys.as_slice() else {
            panic!("{:?}", p.keys)
        };
        assert_eq!(a.username, "alice");
        assert!(matches!(a.kind, OtpKind::Totp { period } if period.get() == 60));
        assert_eq!(a.algorithm, Algorithm::Sha256);
        assert_eq!(a.digits.get(), 8);
        assert_eq!(a.drift, -2);
        assert_eq!(a.secret.expose(), b"12345678901234567890");
        assert_eq!(a.line, 3);
        assert_eq!(b.kind, OtpKind::Hotp { counter: 42 });
        assert_eq!(b.line, 9);
    }

    #[test]
    fn bad_entries_are_refused_by_number_and_the_others_go_on() {
        let ok = package(
            "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
            "alice",
            &plain(SECRET_B64),
            "",
            "",
        );
        let text = container(
            "",
            &[
                ok.clone(),
                package(
                    "urn:ietf:params:xml:ns:keyprov:pskc:ocra",
                    "a",
                    &plain(SECRET_B64),
                    "",
                    "",
                ),
                package(
                    "hotp",
                    "a",
                    &plain(SECRET_B64),
                    "",
                    "<pskc:ResponseFormat Encoding=\"DECIMAL\" Length=\"9\"/>",
                ),
                package("hotp", "a", &plain("MTIzNDU="), "", ""),
                package(
                    "totp",
                    "a",
                    &plain(SECRET_B64),
                    "<pskc:Time><pskc:PlainValue>100</pskc:PlainValue></pskc:Time>",
                    "",
                ),
                ok.replace("<pskc:UserId>alice</pskc:UserId>", ""),
            ]
            .concat(),
        );
        let p = parse_pskc(text.as_bytes(), PskcKey::None).unwrap();
        assert_eq!(p.keys.len(), 1);
        let why: Vec<&str> = p.refused.iter().map(|(_, w)| w.as_str()).collect();
        assert!(
            why[0].starts_with("KeyPackage 2 (Key Id \"k\"): unknown algorithm"),
            "{why:?}"
        );
        assert!(why[1].contains("\"9\" digits"), "{why:?}");
        assert!(why[2].contains("the secret has 40 bits"), "{why:?}");
        assert!(why[3].contains("(T0) is 100"), "{why:?}");
        assert!(why[4].starts_with("KeyPackage 6") && why[4].contains("names no user"));
    }

    #[test]
    fn files_that_are_not_pskc_are_refused_whole() {
        let doctype = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]>\
                       <x>&a;</x>";
        let err = parse_pskc(doctype.as_bytes(), PskcKey::None).unwrap_err();
        assert!(err.to_string().contains("DOCTYPE"), "{err:?}");
        let good = container("", &package("hotp", "a", &plain(SECRET_B64), "", ""));
        let cut = &good[..good.len() / 2];
        let err = parse_pskc(cut.as_bytes(), PskcKey::None).unwrap_err();
        assert!(err.to_string().contains("not well-formed XML"), "{err:?}");
        let err = parse_pskc(&[0xff, 0xfe, 0, 1], PskcKey::None).unwrap_err();
        assert!(err.to_string().contains("binary"), "{err:?}");
        let err = parse_pskc(b"<KeyContainer Version=\"1.0\"/>", PskcKey::None).unwrap_err();
        assert!(err.to_string().contains("not a PSKC file"), "{err:?}");
    }

    #[test]
    fn encrypted_values_open_with_the_password_only() {
        let text = encrypted_file(b"qwerty", false);
        let p = parse_pskc(text.as_bytes(), PskcKey::Password(b"qwerty")).unwrap();
        assert!(p.refused.is_empty(), "{:?}", p.refused);
        assert_eq!(p.keys[0].secret.expose(), b"12345678901234567890");
        assert_eq!(p.keys[0].kind, OtpKind::Hotp { counter: 3 });
        let err = parse_pskc(text.as_bytes(), PskcKey::Password(b"wrong")).unwrap_err();
        assert!(err.to_string().contains("password is wrong"), "{err:?}");
        let err = parse_pskc(text.as_bytes(), PskcKey::None).unwrap_err();
        assert!(err.to_string().contains("--password-file"), "{err:?}");
        // A value whose MAC does not match is never decrypted: with no value left that
        // matches, the password is taken as wrong.
        let tampered = encrypted_file(b"qwerty", true);
        let err = parse_pskc(tampered.as_bytes(), PskcKey::Password(b"qwerty")).unwrap_err();
        assert!(err.to_string().contains("password is wrong"), "{err:?}");
    }

    #[test]
    fn a_pre_shared_key_opens_its_file() {
        let text = encrypted_file(b"qwerty", false);
        let start = text.find("<pskc:EncryptionKey>").unwrap();
        let end = text.find("</pskc:EncryptionKey>").unwrap() + "</pskc:EncryptionKey>".len();
        let text = format!(
            "{}<pskc:EncryptionKey><ds:KeyName xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\
             Pre-shared-key</ds:KeyName></pskc:EncryptionKey>{}",
            &text[..start],
            &text[end..]
        );
        let mut key = [0u8; 16];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(b"qwerty", b"Ej7/PEpyEpw=salt", 1000, &mut key);
        let p = parse_pskc(text.as_bytes(), PskcKey::PreShared(&key)).unwrap();
        assert_eq!(p.keys[0].secret.expose(), b"12345678901234567890");
        let err = parse_pskc(text.as_bytes(), PskcKey::PreShared(&[0u8; 16])).unwrap_err();
        assert!(err.to_string().contains("the PSKC key is wrong"), "{err:?}");
        let err = parse_pskc(text.as_bytes(), PskcKey::PreShared(&[0u8; 32])).unwrap_err();
        assert!(err.to_string().contains("128-bit key"), "{err:?}");
        let err = parse_pskc(text.as_bytes(), PskcKey::Password(b"qwerty")).unwrap_err();
        assert!(
            err.to_string()
                .contains("pre-shared key named \"Pre-shared-key\"")
                && err.to_string().contains("--key-file"),
            "{err:?}"
        );
    }

    #[test]
    fn an_altered_value_is_refused_and_the_others_go_on() {
        let text = encrypted_file(b"qwerty", false);
        let start = text.find("<pskc:KeyPackage>").unwrap();
        let end = text.find("</pskc:KeyPackage>").unwrap() + "</pskc:KeyPackage>\n".len();
        let package = &text[start..end];
        let mac_at = package.find("<pskc:ValueMAC>").unwrap() + "<pskc:ValueMAC>".len();
        let mac_end = package.find("</pskc:ValueMAC>").unwrap();
        let altered = format!(
            "{}{}{}",
            &package[..mac_at],
            b64(&[0u8; 20]),
            &package[mac_end..]
        )
        .replace("alice", "bob");
        let text = format!("{}{altered}{}", &text[..end], &text[end..]);
        let p = parse_pskc(text.as_bytes(), PskcKey::Password(b"qwerty")).unwrap();
        assert_eq!(p.keys.len(), 1);
        assert_eq!(p.keys[0].username, "alice");
        assert_eq!(p.refused.len(), 1, "{:?}", p.refused);
        assert!(
            p.refused[0].1.starts_with("KeyPackage 2")
                && p.refused[0]
                    .1
                    .contains("MAC of its <Secret> does not match"),
            "{:?}",
            p.refused
        );
    }

    #[test]
    fn damaged_files_are_errors_never_panics() {
        let good = encrypted_file(b"qwerty", false).into_bytes();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..300 {
            let mut bytes = good.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 3 {
                    0 => bytes[at] = (next() % 128) as u8,
                    1 => bytes.truncate(at),
                    _ => {
                        bytes.remove(at);
                    }
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let _ = parse_pskc(&bytes, PskcKey::Password(b"qwerty"));
        }
        // Numbers at the edges of their types.
        for (field, value) in [
            ("TimeDrift", "-9223372036854775808"),
            ("TimeDrift", "99999999999999999999"),
            ("TimeInterval", "-30"),
            ("Time", "18446744073709551615"),
        ] {
            let text = container(
                "",
                &package(
                    "totp",
                    "a",
                    &plain(SECRET_B64),
                    &format!(
                        "<pskc:{field}><pskc:PlainValue>{value}</pskc:PlainValue></pskc:{field}>"
                    ),
                    "",
                ),
            );
            let p = parse_pskc(text.as_bytes(), PskcKey::None).unwrap();
            assert!(
                p.keys.is_empty() && p.refused.len() == 1,
                "{field} {value}: {p:?}"
            );
        }
    }

    #[test]
    fn cbc_round_trip_and_bad_padding() {
        let key = [1u8; 16];
        let data = encrypt(&key, [2; 16], b"some secret bytes");
        assert_eq!(
            aes_cbc_decrypt(&key, &data).unwrap().as_slice(),
            b"some secret bytes"
        );
        assert!(
            aes_cbc_decrypt(&[3u8; 16], &data).is_none_or(|p| p.as_slice() != b"some secret bytes")
        );
        assert!(aes_cbc_decrypt(&key, &data[..data.len() - 1]).is_none());
        assert!(aes_cbc_decrypt(&key, &data[..16]).is_none());
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(
            otp_algorithm("urn:ietf:params:xml:ns:keyprov:pskc:totp"),
            Some(true)
        );
        assert_eq!(
            otp_algorithm("urn:ietf:params:xml:ns:keyprov:pskc#hotp"),
            Some(false)
        );
        assert_eq!(
            otp_algorithm("http://www.ietf.org/keyprov/pskc#totp"),
            Some(true)
        );
        assert_eq!(otp_algorithm("HOTP"), Some(false));
        assert_eq!(
            otp_algorithm("urn:ietf:params:xml:ns:keyprov:pskc:pin"),
            None
        );
        assert_eq!(hash_of_suite("HMAC-SHA256"), Some(Algorithm::Sha256));
        assert_eq!(hash_of_suite("sha512"), Some(Algorithm::Sha512));
        assert_eq!(hash_of_suite("hmac-md5"), None);
    }

    #[test]
    fn many_namespaces_or_attributes_are_refused_before_parsing() {
        let good = container("", &package("hotp", "a", &plain(SECRET_B64), "", ""));
        let xmlns: String = (0..5_000)
            .map(|i| format!(" xmlns:a{i}=\"urn:x:{i}\""))
            .collect();
        let text = good.replacen(
            "<pskc:KeyContainer ",
            &format!("<pskc:KeyContainer{xmlns} "),
            1,
        );
        #[allow(clippy::disallowed_methods)]
        let start = std::time::Instant::now();
        let err = parse_pskc(text.as_bytes(), PskcKey::None).unwrap_err();
        assert!(
            err.to_string()
                .contains("the file declares more than 64 XML namespaces"),
            "{err:?}"
        );
        // Spread over tags, they count all the same.
        let ns = |from: usize, to: usize| -> String {
            (from..to)
                .map(|i| format!(" xmlns:b{i}=\"urn:x:{i}\""))
                .collect()
        };
        let spread = good
            .replacen(
                "<pskc:KeyContainer ",
                &format!("<pskc:KeyContainer{} ", ns(0, 40)),
                1,
            )
            .replacen("<pskc:Key ", &format!("<pskc:Key{} ", ns(40, 70)), 1);
        assert_eq!(spread.matches(" xmlns:").count(), 70 + 3);
        let err = parse_pskc(spread.as_bytes(), PskcKey::None).unwrap_err();
        assert!(
            err.to_string().contains("more than 64 XML namespaces"),
            "{err:?}"
        );
        let attributes: String = (0..80_000).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let text = good.replacen("<pskc:Key ", &format!("<pskc:Key{attributes} "), 1);
        let err = parse_pskc(text.as_bytes(), PskcKey::None).unwrap_err();
        assert!(
            err.to_string()
                .contains("a tag has more than 64 attributes: not a PSKC file"),
            "{err:?}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        // What is not an attribute is not counted: `=` in values, comments, CDATA and text,
        // and `xmlns=` inside a value.
        let equals = "=".repeat(500);
        let text = good
            .replacen(
                "Version=\"1.0\"",
                &format!("Version=\"1.0\" Note=\"{equals} xmlns='a'{equals}\""),
                1,
            )
            .replacen(
                "<pskc:KeyPackage>",
                &format!(
                    "<!-- {} --><pskc:KeyPackage><![CDATA[{}]]>{equals}",
                    " a='b' xmlns:c='d'".repeat(200),
                    " <a b='c' xmlns:d='e'>".repeat(200),
                ),
                1,
            );
        let p = parse_pskc(text.as_bytes(), PskcKey::None).unwrap();
        assert_eq!(p.keys.len(), 1, "{:?}", p.refused);
        // A tag of exactly 64 attributes passes: the root's Version, its 3 namespaces and 60
        // more.
        let many: String = (0..60)
            .map(|i| format!(" xmlns:n{i}=\"urn:n{i}\""))
            .collect();
        let text = good.replacen(
            "<pskc:KeyContainer ",
            &format!("<pskc:KeyContainer{many} "),
            1,
        );
        assert_eq!(
            parse_pskc(text.as_bytes(), PskcKey::None)
                .unwrap()
                .keys
                .len(),
            1
        );
        let text = text.replacen(" xmlns:n0=", " xmlns:n0=\"urn:n\" n=", 1);
        let err = parse_pskc(text.as_bytes(), PskcKey::None).unwrap_err();
        assert!(
            err.to_string().contains("more than 64 attributes"),
            "{err:?}"
        );
    }

    #[test]
    fn many_packages_after_a_long_first_line_have_their_lines() {
        let packages: String = (0..3_000)
            .map(|i| package("hotp", &format!("u{i}"), &plain(SECRET_B64), "", ""))
            .collect();
        let text = container("", &packages).replacen(
            "?>\n",
            &format!("?><!--{}-->\n", "x".repeat(4 << 20)),
            1,
        );
        #[allow(clippy::disallowed_methods)]
        let start = std::time::Instant::now();
        let p = parse_pskc(text.as_bytes(), PskcKey::None).unwrap();
        let took = start.elapsed();
        assert!(p.refused.is_empty(), "{:?}", &p.refused[..1]);
        assert_eq!(p.keys.len(), 3_000);
        let all: Vec<&str> = text.lines().collect();
        for (i, k) in p.keys.iter().enumerate() {
            assert_eq!(k.username, format!("u{i}"));
            assert_eq!(k.line, 3 + 6 * i, "KeyPackage {}", i + 1);
            assert_eq!(all[k.line - 1], "<pskc:KeyPackage>");
        }
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn lines_of_offsets() {
        let lines = Lines::of("ab\n\ncd\n");
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 6, 7].map(|at| lines.at(at)),
            [1, 1, 1, 2, 3, 3, 3, 4]
        );
        assert_eq!(Lines::of("").at(0), 1);
    }

    #[test]
    fn a_plain_secret_in_an_encrypted_file_is_refused() {
        let text = encrypted_file(b"qwerty", false);
        let end = text.find("</pskc:KeyContainer>").unwrap();
        let text = format!(
            "{}{}{}",
            &text[..end],
            package("hotp", "mallory", &plain(SECRET_B64), "", ""),
            &text[end..]
        );
        let p = parse_pskc(text.as_bytes(), PskcKey::Password(b"qwerty")).unwrap();
        assert_eq!(p.keys.len(), 1);
        assert_eq!(p.keys[0].username, "alice");
        assert_eq!(p.refused.len(), 1, "{:?}", p.refused);
        assert!(
            p.refused[0].1.starts_with("KeyPackage 2")
                && p.refused[0].1.contains(
                    "its <Secret> is not encrypted in an encrypted file, so no MAC covers it"
                ),
            "{:?}",
            p.refused
        );
        // Its plain counter, as python-pskc writes it unless asked, still goes.
        assert_eq!(p.keys[0].kind, OtpKind::Hotp { counter: 3 });
    }

    #[test]
    fn a_password_or_key_for_a_file_not_encrypted_is_refused() {
        let text = container("", &package("hotp", "a", &plain(SECRET_B64), "", ""));
        assert_eq!(
            parse_pskc(text.as_bytes(), PskcKey::None)
                .unwrap()
                .keys
                .len(),
            1
        );
        let err = parse_pskc(text.as_bytes(), PskcKey::Password(b"qwerty")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file is not encrypted, but a password was given: refusing"
        );
        let err = parse_pskc(text.as_bytes(), PskcKey::PreShared(&[1; 16])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file is not encrypted, but a key was given: refusing"
        );
    }

    #[test]
    fn values_repeated_in_messages_are_cut_short() {
        let long = "A".repeat(1 << 20);
        let good = container("", &package("hotp", "a", &plain(SECRET_B64), "", ""));
        let version = good.replacen("Version=\"1.0\"", &format!("Version=\"{long}\""), 1);
        let err = parse_pskc(version.as_bytes(), PskcKey::None).unwrap_err();
        assert!(err.to_string().len() < 200, "{}", &err.to_string()[..300]);
        assert!(
            err.to_string().starts_with(&format!(
                "PSKC version \"{}…\" is not supported",
                &long[..64]
            )),
            "{}",
            err.to_string()
        );
        let close = good.replacen("</pskc:KeyContainer>", &format!("</{long}>"), 1);
        let err = parse_pskc(close.as_bytes(), PskcKey::None).unwrap_err();
        assert!(
            err.to_string().len() < 400 && err.to_string().contains("not well-formed XML"),
            "{}",
            &err.to_string()[..err.to_string().len().min(500)]
        );
        for (from, to) in [
            ("Algorithm=\"hotp\"", format!("Algorithm=\"{long}\"")),
            (
                "Id=\"k\" Algorithm=\"hotp\"",
                format!("Id=\"{long}\" Algorithm=\"x\""),
            ),
            (
                "<pskc:AlgorithmParameters>",
                format!("<pskc:AlgorithmParameters><pskc:Suite>{long}</pskc:Suite>"),
            ),
            (
                "<pskc:AlgorithmParameters>",
                format!("<pskc:AlgorithmParameters><pskc:ResponseFormat Encoding=\"{long}\"/>"),
            ),
            (
                "<pskc:AlgorithmParameters>",
                format!("<pskc:AlgorithmParameters><pskc:ResponseFormat Length=\"{long}\"/>"),
            ),
            ("<pskc:UserId>a<", format!("<pskc:UserId>{long}<")),
        ] {
            let text = good.replacen(from, &to, 1);
            let p = parse_pskc(text.as_bytes(), PskcKey::None).unwrap();
            let [(_, why)] = p.refused.as_slice() else {
                panic!("{from}: {:?}", p.keys)
            };
            assert!(
                why.len() < 300 && why.contains("AAAA…"),
                "{from}: {}",
                &why[..why.len().min(500)]
            );
        }
        assert_eq!(truncated("ééé", 2), "éé…");
        assert_eq!(truncated("ééé", 3), "ééé");
    }
}
